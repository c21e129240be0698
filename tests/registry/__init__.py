"""Tests for crushd/registry (a package so the tests can share ``_support``)."""
