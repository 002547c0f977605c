"""Originality check: index texts by fingerprint, find the few likely sources, show the passages."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, or_, select

from learning.assessment.models import Submission, SubmittedWork
from learning.assessment.originality import fingerprints as fp
from learning.assessment.originality import similar
from learning.assessment.originality.models import Fingerprint, SourceKind, TextSource
from learning.core import audit
from learning.core.extensions import db
from learning.people.models import User

log = logging.getLogger(__name__)

#: Hashes per IN (...) list: SQLite caps bound parameters per statement.
CHUNK = 500
#: Sources compared word by word per check, at least; the index ranks them first.
MIN_CANDIDATES = 20
#: Characters of source text shown either side of a passage.
CONTEXT_CHARS = 80


@dataclass(frozen=True)
class PassageMatch:
    """One passage side by side: where it is in the answer, and the source text it matches."""

    answer_start: int
    answer_end: int
    source_start: int
    source_end: int
    #: Words of the answer inside the passage.
    words: int
    answer_text: str
    source_text: str
    #: A little of the source either side, cut at word boundaries, for context.
    source_before: str
    source_after: str


@dataclass(frozen=True)
class SourceMatch:
    """A source the answer shares passages with, and the share of the answer they cover."""

    source_id: int
    kind: str
    label: str
    owner_user_id: int | None
    ref: str | None
    share: float
    passages: tuple[PassageMatch, ...]

    @property
    def answer_spans(self) -> list[tuple[int, int]]:
        """For `highlight(answer, match.answer_spans)`."""
        return [(p.answer_start, p.answer_end) for p in self.passages]


@dataclass(frozen=True)
class Report:
    """What the assessor sees: the share of the answer matched anywhere, and the top sources."""

    #: 0..1 share of the answer's words inside a passage matched in any source compared.
    share: float
    words: int
    #: Answer character spans matched in any source, merged: `highlight(answer, report.spans)`.
    spans: tuple[tuple[int, int], ...]
    matches: tuple[SourceMatch, ...]
    #: How many sources were compared word by word.
    compared: int
    #: Passages in other words ("similar meaning"), by source: similar.py.
    similar: tuple[similar.SimilarMatch, ...] = ()
    #: Said to the assessor about the similar-meaning check ("" when it ran).
    similar_note: str = ""
    #: True until the worker has run the similar-meaning check (similar_job.py): a submit
    #: leaves it to the worker, so no web process loads the model or the stored vectors.
    similar_pending: bool = False


# ---- writing to the index ----

def index_text(kind: SourceKind | str, label: str, text: str, owner_user_id: int | None = None,
               ref: str | None = None, vectors: bool = True) -> TextSource:
    """Add a text and its fingerprints, or return the same text already indexed; caller commits.

    A reference is a duplicate when its words equal another reference's; a submission when
    they equal an earlier submission by the same learner (a resubmission changes nothing).
    `vectors=False` leaves its sentence vectors (similar meaning) to the worker's job.
    """
    source, _ = _index(SourceKind(kind), label, fp.analyse(text), owner_user_id, ref, vectors)
    return source


def _index(kind: SourceKind, label: str, analysis: fp.Analysis, owner_user_id: int | None,
           ref: str | None, vectors: bool = True) -> tuple[TextSource, bool]:
    digest = fp.content_hash(analysis)
    query = select(TextSource).where(TextSource.kind == kind.value,
                                     TextSource.content_hash == digest)
    if kind == SourceKind.SUBMISSION:
        query = query.where(TextSource.owner_user_id.is_(None) if owner_user_id is None
                            else TextSource.owner_user_id == owner_user_id)
    existing = db.session.scalars(query.limit(1)).first()
    if existing is not None:
        return existing, False
    source = TextSource(kind=kind.value, label=label[:200], text=analysis.text,
                        owner_user_id=owner_user_id, ref=ref, content_hash=digest,
                        word_count=analysis.word_count)
    db.session.add(source)
    db.session.flush()
    rows = [{"source_id": source.id, "position": position, "hash": h}
            for h, position in fp.fingerprints(analysis)]
    if rows:
        db.session.execute(insert(Fingerprint), rows)
    if vectors:
        similar.store(source)
    return source, True


def add_reference_dir(path: str | Path) -> tuple[int, int, list[str]]:
    """Index every *.txt file in a folder as a reference essay; commits.

    Returns (added, skipped as already indexed, problems). A file that cannot be read or is
    not UTF-8 (a BOM is fine) is named in `problems` and the others are still added.
    """
    folder = Path(path)
    if not folder.is_dir():
        return 0, 0, [f"{folder}: not a folder"]
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".txt")
    if not files:
        return 0, 0, [f"{folder}: no .txt files"]
    added: list[str] = []
    skipped = 0
    problems: list[str] = []
    for file in files:
        try:
            body = file.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            problems.append(f"{file}: cannot be read ({exc.strerror})")
            continue
        except UnicodeDecodeError as exc:
            problems.append(f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8 "
                            "and add it again")
            continue
        analysis = fp.analyse(body)
        if analysis.word_count < fp.MIN_PASSAGE_WORDS:
            problems.append(f"{file}: only {analysis.word_count} words, too short to compare")
            continue
        _, created = _index(SourceKind.REFERENCE, file.name, analysis, None, None)
        if created:
            added.append(file.name)
        else:
            skipped += 1
    if added:
        audit.record("originality.add_reference", folder=str(folder), files=added)
        log.info("originality: added %d reference texts from %s", len(added), folder)
    db.session.commit()
    return len(added), skipped, problems


def forget_learner(user_id: int) -> int:
    """Remove a learner's indexed submissions (erasure requests); caller commits."""
    ids = select(TextSource.id).where(TextSource.owner_user_id == user_id)
    db.session.execute(delete(Fingerprint).where(Fingerprint.source_id.in_(ids)))
    similar.forget(ids)
    # Session.execute is typed as returning Result; for a DELETE it is a CursorResult.
    removed = cast(CursorResult[Any], db.session.execute(
        delete(TextSource).where(TextSource.owner_user_id == user_id)))
    audit.record("originality.forget_learner", learner_id=user_id, removed=removed.rowcount)
    return removed.rowcount


@dataclass(frozen=True)
class Reindexed:
    """What `reindex` did: texts whose fingerprints were made again, answers added, and the
    fingerprints the index holds now."""

    texts: int
    references: int
    added: int
    fingerprints: int


#: Texts fingerprinted again per transaction by `reindex`: each batch commits, so a long
#: re-index never holds the database's write lock for the whole run (SQLite has one), and
#: its progress can be recorded between batches.
REINDEX_BATCH = 200


def reindex(task_titles: Mapping[str, str],
            progress: Callable[[int, int], None] | None = None,
            batch: int = REINDEX_BATCH) -> Reindexed:
    """Rebuild the index from what the database stores; commits after every `batch` texts
    and then tells `progress(done, total)` (the admin page's job shows it).

    Every indexed text (reference essays and copies of answers) gets its fingerprints made
    again from its stored words, and every submitted round of a learner's work that is not
    indexed yet is added (as `submit` would have: answers submitted while the index was not
    there, after a downgrade and upgrade, or an index emptied by hand). Work of erased
    learners stays out. Safe to run twice, and safe to stop halfway (each text is redone
    whole in one transaction); source ids stay, so reports keep naming them.
    """
    source_ids = list(db.session.scalars(select(TextSource.id).order_by(TextSource.id)))
    indexed = set(db.session.scalars(
        select(TextSource.ref).where(TextSource.kind == SourceKind.SUBMISSION.value)))
    missing = [work_id for work_id in db.session.scalars(
        select(SubmittedWork.id)
        .join(Submission, Submission.id == SubmittedWork.submission_id)
        .join(User, User.id == Submission.learner_id)
        .where(User.erased_at.is_(None)).order_by(SubmittedWork.id))
        if str(work_id) not in indexed]
    total, done = len(source_ids) + len(missing), 0

    def batch_done(count: int) -> None:
        nonlocal done
        db.session.commit()
        done += count
        if progress is not None:
            progress(done, total)

    texts = references = 0
    for start in range(0, len(source_ids), batch):
        chunk = source_ids[start:start + batch]
        for source in db.session.scalars(select(TextSource).where(TextSource.id.in_(chunk))
                                         .order_by(TextSource.id)):
            _refingerprint(source)
            texts += 1
            references += source.kind == SourceKind.REFERENCE
        batch_done(len(chunk))
    added = 0
    for start in range(0, len(missing), batch):
        chunk = missing[start:start + batch]
        works = db.session.execute(
            select(SubmittedWork, Submission.learner_id, Submission.task_slug)
            .join(Submission, Submission.id == SubmittedWork.submission_id)
            .where(SubmittedWork.id.in_(chunk)).order_by(SubmittedWork.id))
        for work, learner_id, task_slug in works:
            title = task_titles.get(task_slug, task_slug)
            _, created = _index(SourceKind.SUBMISSION, f"{title}, submission {work.number}",
                                fp.analyse(work.text), learner_id, str(work.id))
            added += created
        batch_done(len(chunk))
    fingerprints = db.session.scalar(select(func.count()).select_from(Fingerprint)) or 0
    audit.record("originality.reindex", texts=texts, added=added, fingerprints=fingerprints)
    db.session.commit()
    log.info("originality: %d texts indexed again, %d answers added", texts, added)
    return Reindexed(texts=texts, references=references, added=added,
                     fingerprints=fingerprints)


def _refingerprint(source: TextSource) -> None:
    """Make a text's fingerprints, word count and hash again from its stored words."""
    analysis = fp.analyse(source.text)
    db.session.execute(delete(Fingerprint).where(Fingerprint.source_id == source.id))
    rows = [{"source_id": source.id, "position": position, "hash": h}
            for h, position in fp.fingerprints(analysis)]
    if rows:
        db.session.execute(insert(Fingerprint), rows)
    similar.store(source)
    source.word_count = analysis.word_count
    digest = fp.content_hash(analysis)
    if digest != source.content_hash:
        # Words normalised differently now: a text that became the same as another keeps
        # its old hash (the unique indexes allow one per text) and stays, like the other.
        same = select(TextSource.id).where(TextSource.kind == source.kind,
                                           TextSource.content_hash == digest,
                                           TextSource.id != source.id)
        if source.kind == SourceKind.SUBMISSION:
            same = same.where(TextSource.owner_user_id == source.owner_user_id)
        if db.session.scalar(same.limit(1)) is None:
            source.content_hash = digest


# ---- checking (reads only) ----

def candidates(hashes: Sequence[int], exclude_owner_user_id: int | None = None,
               exclude_ref: str | None = None, n: int = MIN_CANDIDATES) -> list[tuple[int, int]]:
    """The n sources sharing most fingerprints with the hashes, as (source_id, shared).

    One query on the (hash, source_id) index, or one per CHUNK hashes for very long answers.
    """
    wanted = sorted(set(hashes))
    if not wanted:
        return []
    excluded = []
    if exclude_owner_user_id is not None:
        excluded.append(TextSource.owner_user_id == exclude_owner_user_id)
    if exclude_ref is not None:
        excluded.append(TextSource.ref == exclude_ref)
    shared = func.count().label("shared")
    chunks = [wanted[i:i + CHUNK] for i in range(0, len(wanted), CHUNK)]
    totals: Counter[int] = Counter()
    for chunk in chunks:
        query = (select(Fingerprint.source_id, shared)
                 .where(Fingerprint.hash.in_(chunk))
                 .group_by(Fingerprint.source_id))
        if excluded:
            # A learner resubmitting their own work is not copying it.
            query = query.where(Fingerprint.source_id.not_in(
                select(TextSource.id).where(or_(*excluded))))
        if len(chunks) == 1:  # with several chunks the counts must be summed before ranking
            query = query.order_by(shared.desc(), Fingerprint.source_id).limit(n)
        totals.update({sid: count for sid, count in db.session.execute(query)})
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:n]


def check(text: str, exclude_owner_user_id: int | None = None, exclude_ref: str | None = None,
          limit: int = 5, ignore: str | None = None, similar_meaning: bool = True) -> Report:
    """Compare an answer with the indexed texts; changes nothing. Two queries for most answers.

    `ignore` is text the learners were given (the task's question): passages of it are
    expected in every answer and never count as matches. `similar_meaning=False` compares
    the words only and marks the report pending: the worker's job adds similar meaning.
    """
    answer = fp.analyse(text)
    ignored = frozenset(fp.analyse(ignore).hashes) if ignore else frozenset()
    ranked = candidates([h for h in answer.hashes if h not in ignored], exclude_owner_user_id,
                        exclude_ref, max(limit * 4, MIN_CANDIDATES))
    ids = [source_id for source_id, _ in ranked]
    sources = ({s.id: s for s in db.session.scalars(select(TextSource).where(
        TextSource.id.in_(ids)))} if ids else {})
    matches = []
    all_spans: list[tuple[int, int]] = []
    for source_id in ids:
        source = sources.get(source_id)
        if source is None:  # removed since the query ran
            continue
        match = _compare(answer, source, ignored)
        if match.passages:
            matches.append(match)
            all_spans.extend(match.answer_spans)
    matches.sort(key=lambda m: (-m.share, m.kind != SourceKind.REFERENCE, m.source_id))
    spans = fp.merge_spans(all_spans)
    reworded, note = (similar.check(text, spans, exclude_owner_user_id, exclude_ref, ignore)
                      if similar_meaning else ([], ""))
    return Report(share=fp.match_share(answer, all_spans), words=answer.word_count,
                  spans=tuple(spans), matches=tuple(matches[:limit]),
                  compared=len(sources), similar=tuple(reworded), similar_note=note,
                  similar_pending=not similar_meaning)


def _compare(answer: fp.Analysis, source: TextSource, ignored: frozenset[int]) -> SourceMatch:
    passages = fp.matched_spans(answer, fp.analyse(source.text), ignore=ignored)
    shown = tuple(_passage(answer, source.text, p) for p in passages)
    return SourceMatch(source_id=source.id, kind=source.kind, label=source.label,
                       owner_user_id=source.owner_user_id, ref=source.ref,
                       share=fp.match_share(answer, passages), passages=shown)


def _passage(answer: fp.Analysis, source_text: str, p: fp.Passage) -> PassageMatch:
    words = sum(1 for start in answer.starts if p.answer_start <= start < p.answer_end)
    before = source_text[max(0, p.source_start - CONTEXT_CHARS):p.source_start]
    after = source_text[p.source_end:p.source_end + CONTEXT_CHARS]
    if p.source_start > CONTEXT_CHARS and " " in before:
        before = before[before.index(" ") + 1:]  # start on a whole word
    if p.source_end + CONTEXT_CHARS < len(source_text) and " " in after:
        after = after[:after.rindex(" ")]
    return PassageMatch(*p, words=words, answer_text=answer.text[p.answer_start:p.answer_end],
                        source_text=source_text[p.source_start:p.source_end],
                        source_before=before, source_after=after)
