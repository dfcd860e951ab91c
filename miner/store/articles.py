"""The `articles` table: one row per PMID, upserted by content hash, with its status and extraction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from miner.pubmed import Article
from miner.store.runs import RunCounts
from miner.store.tables import Table, marks


@dataclass
class Abstract:
    """What extraction reads of an article (a stored one, one fetched, or a text given)."""

    pmid: str
    title: str
    abstract: str


@dataclass
class SavedArticles:
    counts: RunCounts
    new: list[str] = field(default_factory=list)
    """PMIDs stored for the first time."""
    revised: list[str] = field(default_factory=list)
    """PMIDs whose stored content changed."""


class ArticlesTable(Table):
    """Articles keyed on PMID. A deleted or retracted article's evidence leaves with it; a revised one's
    stays until its re-extraction (pending, as its fingerprint is cleared) replaces it, so that rows found
    again keep their history."""

    def save(self, articles: Iterable[Article], run_id: int) -> SavedArticles:
        """Upsert one batch in one transaction: the counts, the PMIDs new, and the PMIDs revised."""
        saved = SavedArticles(RunCounts())
        counts = saved.counts
        batch = {a.pmid: a for a in articles}  # a later copy of a PMID in a batch wins
        if not batch:
            return saved
        db = self.db
        with db.conn:
            known = self._hashes(list(batch))
            retraction_targets: list[str] = []
            new_rows, unchanged = [], []
            for pmid, article in batch.items():
                digest = article.content_hash()
                if pmid not in known:
                    new_rows.append({**article_row(article, digest), "first_seen_run": run_id,
                                     "last_seen_run": run_id, "changed_run": run_id})
                    saved.new.append(pmid)
                elif known[pmid] != digest:
                    db["articles"].update(
                        pmid, {**article_row(article, digest), "last_seen_run": run_id, "changed_run": run_id})
                    if article.retracted:
                        self.store.evidence.drop([pmid])
                    counts.updated += 1
                    saved.revised.append(pmid)
                else:
                    unchanged.append((run_id, pmid))
                if article.retracted:
                    counts.retracted += 1
                retraction_targets.extend(article.retraction_of)
            if new_rows:
                db["articles"].insert_all(new_rows, batch_size=500)
            if unchanged:
                db.conn.executemany("update articles set last_seen_run = ? where pmid = ?", unchanged)
            counts.new, counts.unchanged = len(new_rows), len(unchanged)
            if retraction_targets:
                counts.retracted += self._mark(retraction_targets, "retracted", run_id)
        return saved

    def _hashes(self, pmids: list[str]) -> dict[str, str]:
        """Content hashes of known PMIDs; a deleted one hashes to '' so that its return updates it."""
        return {
            pmid: (digest if status != "deleted" else "")
            for pmid, digest, status in self.db.execute(
                f"select pmid, content_hash, status from articles where pmid in ({marks(pmids)})", pmids)
        }

    def mark_deleted(self, pmids: list[str], run_id: int) -> int:
        """Mark known articles deleted (their evidence leaves); how many changed status."""
        with self.db.conn:
            return self._mark(pmids, "deleted", run_id)

    def _mark(self, pmids: list[str], status: str, run_id: int) -> int:
        """Set a status on known articles whose status differs; their evidence leaves."""
        targets = [r[0] for r in self.db.execute(
            f"select pmid from articles where pmid in ({marks(pmids)}) and status != ?", [*pmids, status])]
        if targets:
            self.db.execute(
                f"update articles set status = ?, changed_run = ?, extracted_with = null"
                f" where pmid in ({marks(targets)})", [status, run_id, *targets])
            self.store.evidence.drop(targets)
        return len(targets)

    def needing_extraction(self, fingerprint: str, *, everything: bool = False,
                           among: list[str] | None = None) -> list[str]:
        """PMIDs of active articles (of ``among``, when given) not extracted with ``fingerprint``, or all
        active ones when ``everything``."""
        if among is not None and not among:
            return []
        where, args = ["status = 'active'"], []
        if among is not None:
            where.append(f"pmid in ({marks(among)})")
            args += among
        if not everything:
            where.append("(extracted_with is null or extracted_with != ?)")
            args.append(fingerprint)
        return [r[0] for r in self.db.execute(
            f"select pmid from articles where {' and '.join(where)} order by pmid", args)]

    def texts(self, pmids: list[str]) -> list[Abstract]:
        return [Abstract(pmid, title or "", abstract or "") for pmid, title, abstract in self.db.execute(
            f"select pmid, title, abstract from articles where pmid in ({marks(pmids)})", pmids)]

    def text(self, pmid: str) -> Abstract | None:
        found = self.texts([pmid])
        return found[0] if found else None

    def set_extracted(self, pmids: list[str], fingerprint: str) -> None:
        """Record the extractor fingerprint of these articles' extraction (inside the caller's transaction)."""
        self.db.conn.executemany("update articles set extracted_with = ? where pmid = ?",
                                 [(fingerprint, p) for p in pmids])

    def changed_to(self, status: str, run_id: int) -> list[str]:
        """PMIDs a run set to ``status`` (deleted, retracted)."""
        return [r[0] for r in self.db.execute(
            "select pmid from articles where status = ? and changed_run = ?", [status, run_id])]

    def first_seen_by_query(self, query: str) -> set[str]:
        """Articles not deleted that a fetch, run or refresh of ``query`` stored first."""
        return {r[0] for r in self.db.execute(
            "select a.pmid from articles a join runs r on r.id = a.first_seen_run"
            " where a.status != 'deleted' and r.command in ('fetch', 'run', 'refresh') and r.query = ?", [query])}

    def count_by_status(self) -> dict[str, int]:
        return dict(self.db.execute("select status, count(*) from articles group by status").fetchall())

    def count_with_expression_of_concern(self) -> int:
        """Articles not deleted with an expression of concern."""
        return self.db.execute("select count(*) from articles where expression_of_concern_in is not null"
                               " and status != 'deleted'").fetchone()[0]

    def with_expression_of_concern(self, run_id: int) -> list[str]:
        """PMIDs a run stored or revised that carry an expression of concern."""
        return [r[0] for r in self.db.execute(
            "select pmid from articles where expression_of_concern_in is not null and changed_run = ?"
            " order by pmid", [run_id])]

    def count_without_abstract(self) -> int:
        return self.db.execute("select count(*) from articles where has_abstract = 0").fetchone()[0]


def article_row(article: Article, digest: str) -> dict:
    """An Article as an `articles` row (lists as JSON)."""
    return {
        "pmid": article.pmid,
        "version": article.version,
        "title": article.title,
        "abstract": article.abstract,
        "journal": article.journal,
        "journal_iso": article.journal_iso,
        "year": article.year,
        "pub_date": article.pub_date,
        "authors": json.dumps(article.authors, ensure_ascii=False),
        "doi": article.doi,
        "pmcid": article.pmcid,
        "mesh": json.dumps([asdict(m) for m in article.mesh], ensure_ascii=False),
        "keywords": json.dumps(article.keywords, ensure_ascii=False),
        "publication_types": json.dumps(article.publication_types, ensure_ascii=False),
        "language": article.language,
        "date_revised": article.date_revised,
        "entrez_date": article.entrez_date,
        "has_abstract": int(article.has_abstract),
        "status": "retracted" if article.retracted else "active",
        "retracted_by": json.dumps(article.retracted_by) if article.retracted_by else None,
        "expression_of_concern_in": (json.dumps(article.expression_of_concern_in, ensure_ascii=False)
                                     if article.expression_of_concern_in else None),
        "content_hash": digest,
        "extracted_with": None,
    }
