"""The `summary` table: one row per (marker, cancer, use) over the evidence of active articles, with the
reviewers' verdicts applied (view `evidence_curated`: rejected rows left out, corrected rows under the
reviewer's values)."""

from __future__ import annotations

from dataclasses import dataclass

from miner.store.evidence import Key, filters
from miner.store.tables import Table


@dataclass
class SummaryRow:
    marker: str
    category: str | None
    cancer: str
    use: str
    articles: int
    supporting: int
    refuting: int
    first_year: int | None
    last_year: int | None
    samples: str | None
    pmids: str | None
    """Space-separated, strongest evidence first."""
    candidate: int
    sentence: str | None
    sentence_pmid: str | None
    first_run: int | None
    last_run: int | None
    curated: int | None = 0
    """Evidence rows with a reviewer's verdict (accepted or corrected)."""
    uncurated: int | None = 0

    @property
    def key(self) -> Key:
        return (self.marker, self.cancer, self.use)

    @property
    def pmid_list(self) -> list[str]:
        return (self.pmids or "").split()


class SummaryTable(Table):
    """The summary, rebuilt from the evidence when it changed; read in the order of `evidence_summary`."""

    def rebuild(self) -> None:
        """Rebuild from the evidence in one transaction, each row with its strongest sentence."""
        with self.db.conn:
            self.db.execute("delete from summary")
            self.db.execute(SUMMARY_SQL)
        self.store.summary_stale = False

    def rows(self, cancer: str | None = None, use: str | None = None, min_articles: int = 1) -> list[SummaryRow]:
        """Rows in the order of the `evidence_summary` view (strongest first), filtered as asked."""
        where, args = filters("", cancer, use)
        where.append("articles >= ?")
        args.append(min_articles)
        return [SummaryRow(**r) for r in self.db.query(
            f"select * from evidence_summary where {' and '.join(where)}", args)]

    def snapshot(self) -> dict[Key, SummaryRow]:
        return {r.key: r for r in self.rows()}


SUMMARY_SQL = """
insert into summary
with active as (
    select e.*,
           row_number() over (partition by e.marker, e.cancer, e.use
                              order by e.finding = 'supports' desc, e.confidence desc, e.year desc, e.pmid) as rank
    from evidence_curated e
)
select x.marker, coalesce(m.category, max(x.marker_category)), x.cancer, x.use,
       count(distinct x.pmid),
       count(distinct case when x.finding = 'supports' then x.pmid end),
       count(distinct case when x.finding = 'refutes' then x.pmid end),
       min(x.year), max(x.year),
       group_concat(distinct x.sample),
       group_concat(x.pmid, ' '),  -- strongest evidence first
       max(x.candidate),
       max(case when x.rank = 1 then x.sentence end),
       max(case when x.rank = 1 then x.pmid end),
       min(x.run_id), max(x.run_id),
       count(x.verdict), count(*) - count(x.verdict)
from (select * from active order by marker, cancer, use, rank) x
left join markers m on m.marker = x.marker
group by x.marker, x.cancer, x.use
"""
