"""Benchmark of the protocol PDF: a typical protocol (2–3 pages) and a large one (200 observations).

    .venv/bin/python bench/bench_pdf.py [--runs 30] [--png DIR]

Builds from the plain dict that `protocol_data` makes (no database: rendering never touches it) and
prints median and p95 in milliseconds. `--png DIR` also writes the sample PDFs and, when poppler's
`pdftoppm` is installed, PNGs of their pages to look at the layout.

Results (2026-11-25, 2 cores, with ReportLab's C accelerator `rl_accel`, a dependency since issue
12): typical, 3 pages: median 19 ms (23 ms without the accelerator); large, 18 pages: 120 ms (147 ms
without). Earlier in the day, on a busier machine and without the accelerator: 60 / 447 ms CPU.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader

from inspection.pdf.protocol import build_protocol_pdf

CATEGORIES = ["Överservering", "Berusning", "Ålder", "Ordning", "Narkotika", "Mat", "Övrigt"]
LEVELS = ["Nykter", "Salongsberusad", "Märkbart påverkad", "Kraftigt berusad", ""]
CHECK = [
    ("Serveringsansvarig på plats", "OK", ""),
    (
        "Ordning och nykterhet",
        "Anmärkning",
        "Kö utanför med flera märkbart påverkade gäster; ingen ordningsvakt i kön.",
    ),
    (
        "Överservering",
        "Anmärkning",
        "Bartender serverade en stor stark öl till en gäst som sluddrade och stöttade sig mot bardisken.",
    ),
    ("Ålderskontroll", "OK", "Legitimation kontrollerades i entrén."),
    ("Mat", "OK", "Pizza och toast efter 23:00."),
    ("Serveringstider", "OK", ""),
    ("Uteservering avgränsad", "Ej kontrollerad", ""),
    ("Marknadsföring och prissättning", "OK", ""),
    ("Kassaregister och kvitton", "OK", ""),
    ("Personalliggare", "Anmärkning", "Två personer i tjänst saknades i personalliggaren."),
    ("Alkohol lagligt inköpt", "OK", ""),
    ("Ordningsvakter", "OK", "Två ordningsvakter i entrén."),
    ("Narkotika", "OK", ""),
    ("Max antal gäster", "OK", ""),
]


def sample_data(observations: int = 12, *, signed: bool = True) -> dict:
    """A realistic protocol dict, as protocol_data would make it."""
    start = datetime(2026, 11, 21, 22, 30, tzinfo=UTC)
    obs = [
        {
            "observed_at": start + timedelta(minutes=2 * i),
            "category": CATEGORIES[i % len(CATEGORIES)],
            "level": LEVELS[i % len(LEVELS)],
            "description": (
                f"Observation {i + 1}: en manlig gäst i 30-årsåldern vid bardisken, grumligt tal och ostadig gång, "
                "beställde två öl och fick dem serverade av personal i svart tröja."
            ),
            "author": ["Anna Inspektör", "Peter Polis", "Łukasz Żółć"][i % 3],
            "retracted": i == 3,
            "retracted_reason": "Registrerad på fel ställe." if i == 3 else None,
        }
        for i in range(observations)
    ]
    return {
        "id": 1,
        "kind": "samordnad",
        "kind_label": "Samordnad tillsyn",
        "title": "Tillsynsprotokoll – yttre tillsyn, samordnad med Polisen",
        "status": "signed" if signed else "in_progress",
        "signed": signed,
        "kommun": "Östersunds kommun",
        "police_area": "Polisområde Jämtland",
        "diarienummer": "SOC 2026/1234",
        "visit_date": date(2026, 11, 21),
        "planned_start": start - timedelta(minutes=30),
        "planned_end": start + timedelta(hours=2),
        "venue": {
            "name": "Restaurang Gästgivargården & Bar",
            "address": "Storgatan 12, 831 30 Östersund",
            "permit_holder": "Gästgivargården i Östersund AB",
            "org_number": "556016-0680",
            "permit_number": "T-2024-017",
            "permit_scope": "Allmänheten",
            "permit_kind": "Stadigvarande",
            "serving_hours": "11:00-01:00",
            "outdoor_serving_hours": "11:00-22:00",
            "max_guests": 120,
            "ordningsvakter_required": True,
        },
        "arrived_at": start,
        "left_at": start + timedelta(minutes=71),
        "contact_person": "Şükrü Yılmaz (skiftledare)",
        "responsible_server_present": True,
        "responsible_server_name": "Nguyễn Thị Minh Khai",
        "guest_count": 134,
        "intoxication_level": "Salongsberusad",
        "summary": (
            "Vid besöket var det välbesökt och stökigt i kön. Överservering iakttogs vid ett tillfälle. "
            "Personalliggaren var inte fullständig.\n\nTillståndshavaren ska inom två veckor redovisa "
            "rutiner för att förhindra överservering."
        ),
        "feedback_given": "Muntlig återkoppling gavs till skiftledaren och serveringsansvarig <b>på plats</b> kl. 23:38.",
        "checklist": [
            {"item": item, "status": status, "remark": status == "Anmärkning", "note": note}
            for item, status, note in CHECK
        ],
        "participants": [
            {"name": "Anna Inspektör", "organisation": "Östersunds kommun", "kind": "kommun"},
            {"name": "Łukasz Żółć", "organisation": "Östersunds kommun", "kind": "kommun"},
            {"name": "Peter Polis", "organisation": "Polisområde Jämtland", "kind": "polis"},
        ],
        "other_participants": [{"name": "Ελένη Παπαδοπούλου", "organisation": "Räddningstjänsten"}],
        "observations": obs,
        "photos": [],
        "signatures": [
            {"name": "Anna Inspektör", "organisation": "Östersunds kommun", "signed_at": start + timedelta(hours=14)},
            {"name": "Łukasz Żółć", "organisation": "Östersunds kommun", "signed_at": start + timedelta(hours=15)},
            {"name": "Peter Polis", "organisation": "Polisområde Jämtland", "signed_at": start + timedelta(hours=20)},
        ]
        if signed
        else [],
        "amendments": [],
        "verification_code": "K7QD-2MXA-9PLR" if signed else None,
        "verify_base": "https://krogtillsyn.ostersund.se",
        "content_hash": "3f1a" * 16 if signed else None,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(data: dict, runs: int) -> dict:
    """Wall-clock and CPU milliseconds per build (CPU time is steadier on a shared machine)."""
    pdf = build_protocol_pdf(data)  # warm up: fonts registered, caches filled
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        pdf = build_protocol_pdf(data)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "kib": len(pdf) / 1024,
        "median": statistics.median(wall),
        "p95": _p95(wall),
        "cpu_median": statistics.median(cpu),
        "cpu_p95": _p95(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--png", type=Path, help="write sample PDFs (and PNGs with pdftoppm) here")
    args = parser.parse_args()

    cases = {
        "typical (12 observations)": sample_data(12),
        "large (200 observations)": sample_data(200),
    }
    print(f"{args.runs} runs each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'protocol':<28} {'pages':>5} {'KiB':>5} {'median ms':>10} {'p95 ms':>8} {'CPU median':>11} {'CPU p95':>8}")
    for name, data in cases.items():
        r = measure(data, args.runs)
        print(
            f"{name:<28} {r['pages']:>5} {r['kib']:>5.0f} {r['median']:>10.1f} {r['p95']:>8.1f}"
            f" {r['cpu_median']:>11.1f} {r['cpu_p95']:>8.1f}"
        )

    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
        for stem, data in (("typical", cases["typical (12 observations)"]), ("draft", sample_data(12, signed=False))):
            path = args.png / f"{stem}.pdf"
            path.write_bytes(build_protocol_pdf(data))
            if shutil.which("pdftoppm"):
                subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(args.png / stem)], check=True)
        print(f"samples in {args.png}")


if __name__ == "__main__":
    main()
