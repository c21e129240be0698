"""Tests for crushd.store."""
