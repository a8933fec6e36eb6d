"""`make test` passes from a clone anywhere: nothing the tests, benches or Makefile run reads
a folder outside the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["tests", "bench", "scripts", "Makefile", ".ci", "README.md"]


def test_nothing_reads_a_folder_beside_the_repository() -> None:
    outside = ("..", "shared")
    offenders = []
    for name in SCANNED:
        base = ROOT / name
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file() and p.suffix in {".py", ".md", ""}]
        for path in files:
            if path == Path(__file__):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if "/".join(outside) in text or '"' + outside[0] + '" / "' + outside[1] + '"' in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_carried_elections_are_all_there() -> None:
    carried = sorted(p.name for p in (ROOT / "tests" / "data" / "pabulib").glob("*.pb"))
    assert len(carried) == 13
    assert {"Poland_Wieliczka_2023_Green_Budget.pb", "Poland_Katowice_2020_Zarzecze.pb",
            "Poland_Bydgoszcz_2025_Jachcice.pb", "Poland_Gdynia_2023_Kamienna_Gora__small.pb"} <= set(carried)
