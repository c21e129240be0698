"""The ``/v1/docs/`` script renders every operation and schema (run under node).

The page's script runs against a tiny DOM stand-in (elements with
``textContent`` and children) and a ``fetch`` that returns the generated
document; the test reads the rendered text. Skipped without ``node``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crushd.server.http import DOCS_PAGE, openapi_document
from crushd.server.routes import ROUTES

NODE = shutil.which("node")

_DRIVER = """
const fs = require("fs");
class El {
  constructor(tag) { this.tag = tag; this.kids = []; this.text = ""; }
  appendChild(kid) { this.kids.push(kid); return kid; }
  set textContent(v) { this.text = String(v); this.kids = []; }
  get textContent() { return this.text; }
}
const main = new El("main");
global.document = { createElement: t => new El(t), getElementById: () => main };
const doc = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
global.fetch = () => Promise.resolve({ ok: true, json: () => Promise.resolve(doc) });
eval(fs.readFileSync(process.argv[3], "utf8"));
function dump(el) { return [el.tag + ":" + el.text, ...el.kids.flatMap(dump)]; }
setTimeout(() => console.log(JSON.stringify(dump(main))), 0);
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_page_renders_every_operation_and_schema(tmp_path: Path) -> None:
    assert NODE is not None
    document = openapi_document(ROUTES, version="9.9")
    script = re.search(r"<script>(.*)</script>", DOCS_PAGE, re.DOTALL)
    assert script is not None
    (tmp_path / "doc.json").write_text(json.dumps(document))
    (tmp_path / "page.js").write_text(script.group(1))
    (tmp_path / "driver.js").write_text(_DRIVER)
    out = subprocess.run(
        [NODE, "driver.js", "doc.json", "page.js"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines: list[str] = json.loads(out.stdout)
    assert "h1:crushd 9.9" in lines
    paths = [line.removeprefix("code:") for line in lines if line.startswith("code:")]
    for path, item in document["paths"].items():
        assert paths.count(path) == len(item)
    for name in document["components"]["schemas"]:
        assert f"code:{name}" in lines
    assert any('"skill_id": "string"' in line for line in lines)
    assert "span:crushd C.5" in lines
