"""Reviewers' verdicts on evidence rows: the terminal queue, the spreadsheet round trip, and the verdicts
as labels for training the scorer.

A verdict (accepted, rejected, corrected) is kept in the `curation` table by the evidence row's key, so it
holds through refreshes and re-extractions; the summary, exports and releases apply it. The queue's
input and output are functions passed in (``choose`` for a one-key answer, ``enter`` for a line of text,
``show`` to print), so that the command line gives it click's prompts and tests give it a script.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from miner.nlp.lexicon import USES
from miner.store import Store
from miner.store.curation import VERDICTS, ReviewItem, Verdict

FINDINGS = ("supports", "refutes", "unclear")
CORRECTABLE = ("marker", "cancer", "use", "finding")
KEYS = ("pmid", "marker", "cancer", "use")
SHEET_COLUMNS = [*KEYS, "finding", "confidence", "year", "title", "sentence", "verdict",
                 *(f"corrected_{c}" for c in CORRECTABLE), "note"]
"""The review sheet: the evidence key, what to judge it by, and the columns a reviewer fills in."""
WORDS = {"accept": "accepted", "accepted": "accepted", "reject": "rejected", "rejected": "rejected",
         "correct": "corrected", "corrected": "corrected"}
MENU = "[a]ccept  [r]eject  [c]orrect  [n]ote  [s]kip  [q]uit"

Style = Callable[[str, str], str]
"""(text, kind) → the text marked: kind is 'marker' or 'cue'."""


class SheetError(ValueError):
    """A review sheet that cannot be applied; nothing of it was."""


def brackets(text: str, kind: str) -> str:
    """Marks for a plain terminal or a pipe: [marker], {cue}."""
    return f"[{text}]" if kind == "marker" else f"{{{text}}}"


def marked(item: ReviewItem, style: Style) -> str:
    """The sentence with the marker (as the abstract wrote it) and the cue words (in any case) marked."""
    words = [(item.marker_surface or item.marker, "marker")]
    words += [(cue, "cue") for cue in json.loads(item.cues or "[]") if len(cue) < 40]
    spans: list[tuple[int, int, str]] = []
    for word, kind in sorted(words, key=lambda w: -len(w[0])):
        flags = re.IGNORECASE if kind == "cue" else 0
        for match in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", item.sentence, flags):
            if not any(s < match.end() and match.start() < e for s, e, _ in spans):
                spans.append((match.start(), match.end(), kind))
    out, at = [], 0
    for start, end, kind in sorted(spans):
        out += [item.sentence[at:start], style(item.sentence[start:end], kind)]
        at = end
    return "".join(out) + item.sentence[at:]


def card(item: ReviewItem, position: int, total: int, style: Style) -> str:
    """What the queue shows of one evidence row."""
    return (f"\n({position}/{total}) PMID {item.pmid}"
            f"{f' ({item.year})' if item.year else ''}: {item.title or ''}\n"
            f"  {item.marker} | {item.cancer} | {item.use} | {item.finding} (confidence {item.confidence:.2f})\n"
            f"  {marked(item, style)}")


@dataclass
class Session:
    decided: int = 0
    skipped: int = 0
    stopped: bool = False


def review_queue(store: Store, items: list[ReviewItem], *, choose: Callable[[str], str],
                 enter: Callable[[str, str], str], show: Callable[[str], None], reviewer: str | None,
                 style: Style = brackets) -> Session:
    """Show each item and store the reviewer's verdict at once (so a stopped queue resumes at the first
    undecided row); the summary is rebuilt at the end, and the database made whole for read-only readers."""
    session = Session()
    names = store.curation.names()
    try:
        for position, item in enumerate(items, start=1):
            show(card(item, position, len(items), style))
            verdict = _ask(item, choose, enter, show, names, reviewer)
            if verdict == "quit":
                session.stopped = True
                break
            if verdict is None:
                session.skipped += 1
                continue
            store.curation.decide([verdict])
            session.decided += 1
    finally:
        store.refresh_summary()
        store.checkpoint()
    return session


def _ask(item: ReviewItem, choose: Callable[[str], str], enter: Callable[[str, str], str],
         show: Callable[[str], None], names: tuple[set[str], set[str]], reviewer: str | None) -> Verdict | str | None:
    """One item's verdict, None when skipped, 'quit' to stop."""
    note: str | None = None
    while True:
        key = (choose(MENU) or "").strip().lower()[:1]
        if key in ("a", "r"):
            return Verdict(*item.key, "accepted" if key == "a" else "rejected", note=note, reviewer=reviewer)
        if key == "c":
            values = {f"corrected_{c}": _changed(enter(f"{c} [{getattr(item, c)}]", ""), getattr(item, c))
                      for c in CORRECTABLE}
            problems = correction_problems(values, names)
            if not any(values.values()):
                problems.append("nothing corrected")
            if problems:
                show("  " + "; ".join(problems))
                continue
            return Verdict(*item.key, "corrected", **values, note=note, reviewer=reviewer)
        if key == "n":
            note = enter("note", note or "").strip() or None
        elif key == "s":
            return None
        elif key == "q":
            return "quit"
        else:
            show(f"  keys: {MENU}")


def _changed(value: str, current: str) -> str | None:
    value = value.strip()
    return value if value and value != current else None


def correction_problems(values: dict[str, str | None], names: tuple[set[str], set[str]]) -> list[str]:
    """Corrected values that name no known marker, cancer, use or finding."""
    markers, cancers = names
    known = {"marker": markers, "cancer": cancers, "use": set(USES), "finding": set(FINDINGS)}
    return [f"unknown {column} {value!r}" for column in CORRECTABLE
            if (value := values.get(f"corrected_{column}")) and value not in known[column]]


# -- the spreadsheet round trip -----------------------------------------------------------------

def write_sheet(store: Store, out: TextIO, order: str = "pmid", undecided: bool = False) -> int:
    """One evidence row a line, its verdict columns filled where a verdict exists, empty otherwise."""
    writer = csv.DictWriter(out, fieldnames=SHEET_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for item in store.curation.items(order, undecided=undecided):
        writer.writerow({**vars(item), "confidence": f"{item.confidence:.2f}"})
        count += 1
    return count


def read_sheet(store: Store, path: Path, reviewer: str | None) -> list[Verdict]:
    """The verdicts of a filled-in sheet, every line checked first; SheetError lists every problem (with
    its line) when one is found."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in (*KEYS, "verdict") if c not in (reader.fieldnames or [])]
            if missing:
                raise SheetError(f"{path} is not a review sheet: no column {', '.join(missing)}"
                                 " (write one with `miner review export`)")
            lines = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SheetError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    known_pmids = store.curation.known_pmids(sorted({(row["pmid"] or "").strip() for _, row in lines}))
    keys = store.curation.evidence_keys(sorted(known_pmids))
    names = store.curation.names()
    problems: list[str] = []
    verdicts: dict[tuple, tuple[int, Verdict]] = {}
    for line, row in lines:
        key = tuple((row.get(c) or "").strip() for c in KEYS)
        word = (row.get("verdict") or "").strip().lower()
        corrections = {f"corrected_{c}": (row.get(f"corrected_{c}") or "").strip() or None for c in CORRECTABLE}
        found = []
        if key[0] not in known_pmids:
            found.append(f"unknown PMID {key[0]!r}")
        elif key not in keys:
            found.append(f"no evidence row {' | '.join(key)} (were the key columns edited?)")
        if word and word not in WORDS:
            found.append(f"verdict {word!r} is not one of {', '.join(VERDICTS)}")
        verdict = WORDS.get(word)
        if verdict == "corrected" and not any(corrections.values()):
            found.append("verdict corrected, but no corrected_ column filled in")
        if verdict and verdict != "corrected" and any(corrections.values()):
            found.append(f"corrected_ columns filled in, but the verdict is {verdict}")
        found += correction_problems(corrections, names)
        if verdict and key in verdicts and not verdicts[key][1].same_decision(_verdict(key, verdict, corrections, row)):
            found.append(f"contradicts line {verdicts[key][0]} on the same row")
        problems += [f"line {line}: {p}" for p in found]
        if verdict and not found:
            verdicts[key] = (line, _verdict(key, verdict, corrections, row, reviewer))
    if problems:
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        raise SheetError(f"{path}: {len(problems)} problem{'s' * (len(problems) > 1)}, nothing applied: {shown}")
    return [v for _, v in verdicts.values()]


def _verdict(key: tuple, verdict: str, corrections: dict, row: dict, reviewer: str | None = None) -> Verdict:
    return Verdict(*key, verdict, **(corrections if verdict == "corrected" else {}),
                   note=(row.get("note") or "").strip() or None, reviewer=reviewer)


def import_sheet(store: Store, path: Path, reviewer: str | None) -> tuple[int, int]:
    """Apply a sheet, all or nothing: (verdicts new or changed, verdicts in the sheet)."""
    verdicts = read_sheet(store, path, reviewer)
    changed = store.curation.decide(verdicts)
    store.refresh_summary()
    store.checkpoint()
    return changed, len(verdicts)


# -- verdicts as labels -------------------------------------------------------------------------

def verdict_labels(store: Store, pmids: set[str] | None = None) -> list[dict]:
    """Reviewers' verdicts as gold-like records for training the scorer: {pmid, marker, cancer, use,
    label}, label 1 for an accepted row and for a correction's values, 0 for a rejected row and for the
    row a correction replaced. Only the PMIDs in ``pmids`` when given."""
    labels: list[dict] = []
    for v in store.curation.all():
        if pmids is not None and v.pmid not in pmids:
            continue
        labels.append({"pmid": v.pmid, "marker": v.marker, "cancer": v.cancer, "use": v.use,
                       "label": int(v.verdict == "accepted")})
        if v.verdict == "corrected":
            to = (v.corrected_marker or v.marker, v.corrected_cancer or v.cancer, v.corrected_use or v.use)
            if to != (v.marker, v.cancer, v.use):
                labels.append({"pmid": v.pmid, "marker": to[0], "cancer": to[1], "use": to[2], "label": 1})
            else:  # only the finding was corrected: the relation itself holds
                labels[-1]["label"] = 1
    return labels
