"""Originality check at scale: prints the time to check one answer against 1k, 10k and 20k answers.

Builds a throwaway SQLite database (and a throwaway PostgreSQL database beside the one named
by --database-url, dropped afterwards), seeds it with synthetic ~300-word answers in bulk,
and after each size times check() of answers that copy a passage from one stored answer.
Figures are printed; nothing is asserted. With the similar-meaning model installed
(requirements-full.txt) each answer's sentence vectors are stored too, and the check's time
includes finding reworded passages; the first check after start-up, which loads every stored
vector into memory, is timed on its own.

    .venv/bin/python bench/originality.py [--sizes 1000,10000,20000] [--runs 5]
                                          [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEARNERS = 2_000
BATCH = 1_000

# Pieces of safeguarding answers. Each sentence draws every slot independently and skips some
# at random, so answers share vocabulary and stock phrases the way real answers to one task do,
# while an 8-word run shared by chance stays rare (as it is between honest answers).
LINK = ["In my setting", "For example,", "In practice", "Most importantly,", "Similarly,",
        "However,", "As a result,", "In addition,", "From my experience,", "Equally,",
        "At our nursery", "Last year", "In one case", "Sometimes", "Often", "Usually",
        "In my view", "On my placement", "Where possible", "Above all"]
ADJ = ["experienced", "local", "new", "named", "busy", "designated", "lead", "visiting",
       "allocated", "senior", "duty", "specialist", "community", "qualified", "trusted"]
ROLE = ["health visitor", "safeguarding lead", "social worker", "school nurse", "police officer",
        "GP", "nursery manager", "key person", "early help worker", "childminder", "teacher",
        "midwife", "youth worker", "housing officer", "paediatrician", "practitioner",
        "family support worker", "probation officer", "CAMHS worker", "headteacher",
        "speech therapist", "dentist", "pharmacist", "governor", "playworker", "coach",
        "A&E nurse", "school counsellor", "foster carer", "interpreter"]
MODAL = ["should", "must", "will", "can", "may", "needs to", "tends to", "has to", "would"]
ADVERB = ["quickly", "carefully", "always", "usually", "promptly", "clearly", "calmly",
          "openly", "accurately", "regularly", "sensitively", "formally"]
VERB = ["share", "record", "pass on", "review", "check", "discuss", "escalate", "write down",
        "explain", "agree", "question", "follow up", "report", "date", "summarise", "challenge",
        "clarify", "confirm", "collect", "weigh up", "note", "raise", "chase", "compare",
        "describe", "log", "update", "request", "attend to", "monitor"]
DET = ["the", "any", "every", "each", "a", "their", "our", "this"]
ADJ2 = ["new", "small", "serious", "repeated", "written", "early", "recent", "urgent", "unclear",
        "missing", "worrying", "possible", "detailed", "shared", "minor", "ongoing", "historic",
        "verbal", "relevant", "accurate"]
NOUN = ["concern", "disclosure", "referral", "injury", "bruise", "absence", "comment", "change",
        "incident", "record", "chronology", "visit", "plan", "assessment", "decision", "report",
        "meeting", "phone call", "note", "worry", "observation", "complaint", "allegation",
        "risk", "question", "detail", "timeline", "message", "signature", "review"]
ABOUT = ["about neglect", "about domestic abuse", "about attendance", "about self-harm",
         "about a sibling", "about the home", "about diet", "about sleep", "about bullying",
         "about online safety", "about a new partner", "about missed appointments",
         "about hygiene", "about behaviour", "about speech", "about money", "about drugs",
         "about housing", "about exploitation", "about mental health"]
PREP = ["with", "to", "for", "alongside", "from", "about", "before", "after"]
NOUN2 = ["social care", "the police", "the family", "the school", "the nursery", "the GP",
         "the child", "the parents", "the team", "the partnership", "the council", "health",
         "the manager", "early help", "the LADO", "the NSPCC", "the hospital", "the court",
         "the carer", "the conference", "colleagues", "other agencies", "the DSL", "the panel"]
TAIL = ["on the same day", "without delay", "at the strategy meeting", "before the review",
        "when the threshold is met", "as soon as possible", "at the core group",
        "during supervision", "after speaking to the child", "in line with local procedures",
        "within one working day", "at the conference", "every week", "before the case closes",
        "so that the whole picture is seen", "because no single agency sees everything",
        "so the child is protected sooner", "to avoid drift and delay", "so nothing is missed",
        "which keeps the child at the centre", "so that everyone knows their role",
        "to build trust between agencies", "so decisions can be checked later",
        "because the Children Act 2004 expects it", "so the family gets help early"]


def synthetic_sentence(rng: random.Random) -> str:
    def maybe(pool: list[str], chance: float = 0.5) -> list[str]:
        return [rng.choice(pool)] if rng.random() < chance else []

    words = [*maybe(LINK, 0.4), rng.choice(DET[:3] + ["our", "their"]), *maybe(ADJ, 0.4),
             rng.choice(ROLE), *maybe(MODAL, 0.6), *maybe(ADVERB, 0.4), rng.choice(VERB),
             rng.choice(DET), *maybe(ADJ2, 0.6), rng.choice(NOUN), *maybe(ABOUT, 0.5),
             *maybe([f"{p} {n}" for p in PREP for n in NOUN2], 0.7), *maybe(TAIL, 0.6)]
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:] + "."


def synthetic_answer(rng: random.Random, words: int = 300) -> str:
    sentences, count = [], 0
    while count < words:
        sentence = synthetic_sentence(rng)
        sentences.append(sentence)
        count += len(sentence.split())
    return " ".join(sentences)


def probe_answer(rng: random.Random, stored: str, copied_words: int = 60) -> str:
    """A new answer whose middle is a passage copied from a stored answer."""
    words = stored.split()
    start = rng.randrange(0, max(1, len(words) - copied_words))
    passage = " ".join(words[start:start + copied_words])
    return f"{synthetic_answer(rng, 120)} {passage} {synthetic_answer(rng, 120)}"


class Corpus:
    """Synthetic answers with their fingerprints, computed once and shared by every database."""

    def __init__(self, seed: int = 2026):
        self.rng = random.Random(seed)
        self.texts: list[str] = []
        self.fingerprints: list[tuple[array, array]] = []
        self.digests: list[str] = []
        self.words: list[int] = []
        #: (spans, float16 vectors as bytes) per answer, when the model is installed.
        self.vectors: list[tuple[list, bytes]] = []
        self.seconds = 0.0
        self.embed_seconds = 0.0

    def grow(self, n: int) -> None:
        from learning.assessment.originality import fingerprints as fp

        began = time.perf_counter()
        while len(self.texts) < n:
            text = synthetic_answer(self.rng)
            analysis = fp.analyse(text)
            pairs = fp.fingerprints(analysis)
            self.texts.append(text)
            self.fingerprints.append((array("q", (h for h, _ in pairs)),
                                      array("q", (p for _, p in pairs))))
            self.digests.append(fp.content_hash(analysis))
            self.words.append(analysis.word_count)
        self.seconds += time.perf_counter() - began
        from learning.assessment.originality import similar

        model = similar.model()
        if model is None:
            return
        import numpy as np

        from learning.assessment.originality import semantic

        began = time.perf_counter()
        while len(self.vectors) < len(self.texts):
            sentences = semantic.sentences(self.texts[len(self.vectors)])
            vectors = model.embed([x.text for x in sentences]).astype(np.float16)
            self.vectors.append(([[x.start, x.end] for x in sentences], vectors.tobytes()))
        self.embed_seconds += time.perf_counter() - began


def throwaway_postgres(base_url: str):
    import psycopg

    name = f"bench_originality_{secrets.token_hex(4)}"
    admin = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base_url.rsplit("/", 1)[0] + f"/{name}", drop


def seed(db, corpus: Corpus, start: int, stop: int, postgres: bool) -> float:
    """Bulk-insert answers [start, stop) and their fingerprints; returns seconds taken."""
    from sqlalchemy import insert, text

    from learning.assessment.originality.models import SentenceVectors, TextSource
    from learning.core.types import utcnow

    if corpus.vectors:
        from learning.assessment.originality import semantic
    began = time.perf_counter()
    for lo in range(start, stop, BATCH):
        hi = min(stop, lo + BATCH)
        now = utcnow()
        db.session.execute(insert(TextSource.__table__), [
            {"id": i + 1, "kind": "submission", "label": f"Answer {i + 1}",
             "text": corpus.texts[i], "owner_user_id": i % LEARNERS + 1, "ref": f"sub-{i + 1}",
             "content_hash": corpus.digests[i], "word_count": corpus.words[i],
             "created_at": now} for i in range(lo, hi)])
        raw = db.session.connection().connection.driver_connection
        rows = ((i + 1, p, h) for i in range(lo, hi)
                for h, p in zip(*corpus.fingerprints[i], strict=True))
        if postgres:  # COPY is the bulk path on PostgreSQL
            with raw.cursor() as cur, cur.copy(
                    "COPY text_fingerprint (source_id, position, hash) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:  # the DB-API's executemany, without per-row work in SQLAlchemy
            raw.executemany("INSERT INTO text_fingerprint (source_id, position, hash) "
                            "VALUES (?, ?, ?)", rows)
        if corpus.vectors:
            db.session.execute(insert(SentenceVectors.__table__), [
                {"source_id": i + 1, "model": semantic.MODEL_NAME, "spans": corpus.vectors[i][0],
                 "vectors": corpus.vectors[i][1], "created_at": now} for i in range(lo, hi)])
        db.session.commit()
    if postgres:  # rows were given ids, so move the sequence past them
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('text_source', 'id'), "
                                "(SELECT MAX(id) FROM text_source))"))
        db.session.commit()
    return time.perf_counter() - began


def index_size(db, postgres: bool, url: str) -> str:
    from sqlalchemy import text

    rows = db.session.scalar(text("SELECT COUNT(*) FROM text_fingerprint"))
    if postgres:
        size = db.session.scalar(text("SELECT pg_total_relation_size('text_fingerprint')"))
    else:
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        size = Path(url.removeprefix("sqlite:///")).stat().st_size
    return f"{rows:,} fingerprint rows, {size / 2**20:,.0f} MB"


def time_checks(db, corpus: Corpus, n: int, runs: int) -> dict:
    from learning.assessment.originality import fingerprints as fp
    from learning.assessment.originality import index as originality

    rng = random.Random(n)
    totals, queries, found, shares = [], [], 0, []
    for _ in range(runs):
        target = rng.randrange(n)
        answer = probe_answer(rng, corpus.texts[target])
        owner = (target + 1) % LEARNERS + 1  # someone else: the learner's own work is excluded
        began = time.perf_counter()
        report = originality.check(answer, exclude_owner_user_id=owner)
        totals.append(time.perf_counter() - began)
        db.session.rollback()
        began = time.perf_counter()
        originality.candidates(fp.shingle_hashes(answer), exclude_owner_user_id=owner)
        queries.append(time.perf_counter() - began)
        db.session.rollback()
        found += bool(report.matches) and report.matches[0].ref == f"sub-{target + 1}"
        shares.append(report.share)
    return {"median": statistics.median(totals), "max": max(totals),
            "query": statistics.median(queries), "found": found,
            "share": statistics.median(shares)}


def cold_check(db, corpus: Corpus) -> tuple[float, int, int] | None:
    """Time of a check that loads every stored vector (as the first after start-up does)."""
    from learning.assessment.originality import index as originality
    from learning.assessment.originality import similar

    if not corpus.vectors:
        return None
    similar._matrix.clear()
    began = time.perf_counter()
    originality.check(synthetic_answer(random.Random(1)))
    took = time.perf_counter() - began
    db.session.rollback()
    matrix = similar._matrix.refresh(similar.model().name)[0]
    return took, len(matrix), matrix.nbytes


def reworded_at_scale(db, n: int) -> None:
    """Among n stored answers on the same topic, is an essay reworded paragraph by paragraph
    (tests/data/paraphrase/) found with its source, and how long does that check take?"""
    from learning.assessment.originality import index as originality
    from learning.assessment.originality import similar

    if similar.model() is None:
        return
    data = ROOT / "tests" / "data" / "paraphrase"
    originality.add_reference_dir(data / "reference")
    reworded = (data / "reworded.txt").read_text(encoding="utf-8")
    originality.check(reworded)  # loads the new vectors
    db.session.rollback()
    took = []
    for _ in range(3):
        began = time.perf_counter()
        report = originality.check(reworded, exclude_owner_user_id=1)
        took.append(time.perf_counter() - began)
        db.session.rollback()
    found = [m.label for m in report.similar]
    print(f"  the reworded essay among {n:,} answers: similar meaning found {found or 'nothing'}"
          f" ({len(report.similar[0].passages) if found else 0} sentences), share of same words "
          f"{report.share:.2f}; check median {statistics.median(took) * 1000:.0f} ms")


def run(url: str, corpus: Corpus, sizes: list[int], runs: int) -> None:
    from sqlalchemy import insert, text

    from learning import create_app
    from learning.assessment.originality import index as originality
    from learning.assessment.originality.models import TextSource  # noqa: F401  (registers the tables)
    from learning.core.config import settings_for_tests
    from learning.core.extensions import db
    from learning.core.types import utcnow
    from learning.people.models import User

    postgres = url.startswith("postgresql")
    app = create_app(settings_for_tests(url, SQLALCHEMY_RECORD_QUERIES=False))
    with app.app_context():
        db.create_all()
        db.session.execute(insert(User.__table__), [
            {"id": i, "email": f"learner{i}@bench.example.org", "name": f"Learner {i}",
             "active": True, "created_at": utcnow()} for i in range(1, LEARNERS + 1)])
        db.session.commit()
        print(f"\n{'PostgreSQL' if postgres else 'SQLite'} ({os.cpu_count()} CPUs), "
              f"{runs} checks per size, each answer ~300 words with a 60-word copied passage:")
        seeded, seconds = 0, 0.0
        for n in sizes:
            corpus.grow(n)
            seconds += seed(db, corpus, seeded, n, postgres)
            seeded = n
            if postgres:  # what autovacuum does in time: index-only scans need the visibility map
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(text("VACUUM ANALYZE text_fingerprint"))
                    c.execute(text("VACUUM ANALYZE text_source"))
            cold = cold_check(db, corpus)
            t = time_checks(db, corpus, n, runs)
            print(f"  {n:>6,} answers: check median {t['median'] * 1000:6.1f} ms "
                  f"(max {t['max'] * 1000:.1f}), candidate query {t['query'] * 1000:5.1f} ms, "
                  f"copied source ranked first {t['found']}/{runs}, median share "
                  f"{t['share']:.2f}; {index_size(db, postgres, url)}")
            if cold is not None:
                print(f"          similar meaning: first check after start-up {cold[0] * 1000:.0f}"
                      f" ms (loads {cold[1]:,} sentence vectors, {cold[2] / 2**20:,.0f} MB in "
                      f"memory); then included in the check's time above")
        print(f"  bulk seeding: {seeded / seconds:,.0f} answers/s ({seconds:.1f} s for "
              f"{seeded:,})")
        reworded_at_scale(db, seeded)
        rng = random.Random(7)
        began = time.perf_counter()
        for i in range(200):
            originality.index_text("submission", f"extra {i}", synthetic_answer(rng),
                                   owner_user_id=i % LEARNERS + 1, ref=f"extra-{i}")
            db.session.commit()
        took = time.perf_counter() - began
        print(f"  index_text one at a time (one commit each, as on submit): "
              f"{200 / took:,.0f} answers/s ({took / 200 * 1000:.1f} ms each)")
        db.session.remove()
        db.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,20000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to add a throwaway database to, as well")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    corpus = Corpus()
    tmp = Path(tempfile.mkdtemp(prefix="bench-originality-"))
    try:
        run(f"sqlite:///{tmp / 'bench.sqlite3'}", corpus, sizes, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nfingerprinting: {len(corpus.texts) / corpus.seconds:,.0f} answers/s "
          f"({corpus.seconds:.1f} s for {len(corpus.texts):,}, once for all databases)")
    if corpus.vectors:
        print(f"sentence vectors: {len(corpus.texts) / corpus.embed_seconds:,.0f} answers/s "
              f"({corpus.embed_seconds:.1f} s for {len(corpus.texts):,})")
    else:
        print("similar meaning: not timed, the model package is not installed "
              "(pip install -r requirements-full.lock)")
    if args.database_url:
        url, drop = throwaway_postgres(args.database_url)
        try:
            run(url, corpus, sizes, args.runs)
        finally:
            drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
