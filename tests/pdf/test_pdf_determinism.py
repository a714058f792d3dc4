"""The same document renders to the same bytes: twice, in another process, with or without the
font caches, and with nothing of the current time in it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace

from pdf import fonts, from_invoice_json, render_credit_note, render_invoice, sha256_of
from tests.pdf import samples

ROOT = Path(__file__).resolve().parents[2]


def _invoice() -> bytes:
    return render_invoice(from_invoice_json(samples.domestic_de(), samples.logo_png()), "de")


def test_the_same_invoice_renders_to_identical_bytes_twice() -> None:
    assert _invoice() == _invoice()


def test_a_long_invoice_and_a_credit_note_render_identically_twice() -> None:
    assert render_invoice(samples.long_invoice(), "fr") == render_invoice(
        samples.long_invoice(), "fr"
    )
    assert render_credit_note(samples.credit_note(), "it") == render_credit_note(
        samples.credit_note(), "it"
    )


def test_sha256_of_is_the_hex_digest_of_the_bytes() -> None:
    pdf = _invoice()
    assert sha256_of(pdf) == hashlib.sha256(pdf).hexdigest()
    assert len(sha256_of(pdf)) == 64


SCRIPT = """
from reportlab.lib import rl_accel
from pdf import from_invoice_json, render_invoice, sha256_of
from tests.pdf import samples
doc = from_invoice_json(samples.domestic_de(), samples.logo_png())
print(sha256_of(render_invoice(doc, "de")), bool(rl_accel._c_funcs))
"""


def _hash_in_another_process(pythonpath: str) -> tuple[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "", "PYTHONPATH": pythonpath},
    )
    digest, accelerated = result.stdout.split()
    return digest, accelerated


def test_another_process_renders_the_same_bytes() -> None:
    assert _hash_in_another_process(str(ROOT))[0] == sha256_of(_invoice())


def test_reportlabs_c_accelerator_changes_no_byte(tmp_path: Path) -> None:
    (tmp_path / "_rl_accel.py").write_text("raise ImportError('pure Python, for the test')\n")
    digest, accelerated = _hash_in_another_process(f"{tmp_path}:{ROOT}")
    assert accelerated == "False"
    assert digest == sha256_of(_invoice())


def test_remembered_font_subsets_change_no_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    remembered = _invoice()
    monkeypatch.setattr(fonts._RememberingFont, "addObjects", TTFont.addObjects)
    monkeypatch.setattr(fonts._RememberingFace, "makeSubset", TTFontFace.makeSubset)
    assert _invoice() == remembered


def test_no_clock_time_leaks_into_the_document() -> None:
    pdf = _invoice()
    assert b"/CreationDate (D:20000101000000" in pdf  # reportlab's invariant date
    assert f"D:{datetime.now(UTC):%Y%m%d}".encode() not in pdf
