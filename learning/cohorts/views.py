"""Coordinators' and admins' pages for running cohorts: details, people and target dates."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from learning.cohorts import admin as cohort_admin
from learning.cohorts import deadlines
from learning.cohorts.admin import CohortError
from learning.cohorts.forms import (
    ActionForm,
    CohortForm,
    EnrolForm,
    MoveForm,
    PersonForm,
    deadlines_form,
    field_name,
)
from learning.cohorts.items import Item, for_unit, items_for
from learning.content.access import get_catalog
from learning.core import dates
from learning.core.extensions import db
from learning.core.permissions import require, role_required
from learning.core.types import utcnow
from learning.people.models import Centre, Cohort, Enrolment, Role, User
from learning.quizzes.access import get_quizzes

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")

_MANAGERS = (Role.COORDINATOR, Role.ADMIN)


def _today():
    return dates.today()


def _items() -> tuple[Item, ...]:
    return items_for(get_catalog(), get_quizzes())


def _cohort_or_404(cohort_id: int) -> Cohort:
    """The cohort, if it exists (404) and the current user manages it (403)."""
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        abort(404)
    require(cohort_admin.can_manage(current_user, cohort))
    return cohort


def _enrolment_or_404(cohort: Cohort, user_id: int) -> Enrolment:
    learner = db.session.get(User, user_id)
    enrolment = learner and cohort_admin.current_enrolment(cohort, learner)
    if not enrolment:
        abort(404)
    return enrolment


def _cohort_form(cohort: Cohort | None = None, **kwargs) -> CohortForm:
    form = CohortForm(**kwargs)
    form.set_choices(get_catalog().units, cohort_admin.managed_centres(
                         current_user, keep=cohort.centre_id if cohort else None),
                     allow_no_centre=current_user.has_role(Role.ADMIN))
    return form


def _cohort_fields(form: CohortForm) -> dict:
    return {"name": form.name.data, "starts_on": form.starts_on.data,
            "ends_on": form.ends_on.data, "unit_id": form.unit_id.data,
            "centre_id": int(form.centre_id.data) if form.centre_id.data else None}


def _show_error(form, exc: CohortError) -> None:
    target = getattr(form, exc.field or "", None)
    if target is None:
        target = next(iter(f for f in form if f.name != "csrf_token"))
    target.errors = [*target.errors, str(exc)]



def _confirm(title: str, button: str, lines: list[str], action: str, cohort):
    """A page that asks before an action that takes something away (no script needed)."""
    return render_template("cohorts/confirm.html", title=title, button=button, lines=lines,
                           action=action, cohort=cohort)

@bp.get("/")
@role_required(*_MANAGERS)
def index():
    """The cohorts this person manages (archived ones only when asked), with overdue counts."""
    include_archived = request.args.get("archived") == "1"
    rows = cohort_admin.cohort_list(current_user, include_archived)
    counts = deadlines.cohort_overdue_counts([r.cohort.id for r in rows], _items(), _today())
    units = {u.id: u for u in get_catalog().units}
    return render_template("cohorts/index.html", rows=rows, counts=counts, units=units,
                           include_archived=include_archived)


@bp.route("/new", methods=["GET", "POST"])
@role_required(*_MANAGERS)
def create():
    """A new cohort in one of the person's centres."""
    form = _cohort_form()
    if request.method == "GET":
        if len(form.centre_id.choices) == 2 and not current_user.has_role(Role.ADMIN):
            form.centre_id.data = form.centre_id.choices[1][0]
    elif form.validate_on_submit():
        try:
            cohort = cohort_admin.create_cohort(current_user, **_cohort_fields(form))
        except CohortError as exc:
            _show_error(form, exc)
        else:
            flash(f"Cohort {cohort.name} created. Now add its learners and staff.", "success")
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    return render_template("cohorts/form.html", form=form, cohort=None,
                           no_centres=len(form.centre_id.choices) == 1)


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@role_required(*_MANAGERS)
def edit(cohort_id: int):
    """Change a cohort's name, dates, unit or centre."""
    cohort = _cohort_or_404(cohort_id)
    if request.method == "GET":
        form = _cohort_form(cohort, formdata=None, data={
            "name": cohort.name, "starts_on": cohort.starts_on, "ends_on": cohort.ends_on,
            "unit_id": cohort.unit_id or "",
            "centre_id": str(cohort.centre_id) if cohort.centre_id else ""})
    else:
        form = _cohort_form(cohort)
        if form.validate_on_submit():
            try:
                changes = cohort_admin.update_cohort(cohort, current_user, **_cohort_fields(form))
            except CohortError as exc:
                _show_error(form, exc)
            else:
                flash("Cohort details saved." if changes else "Nothing was changed.", "success")
                return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    return render_template("cohorts/form.html", form=form, cohort=cohort, no_centres=False)


@bp.route("/<int:cohort_id>/archive", methods=["GET", "POST"])
@role_required(*_MANAGERS)
def archive(cohort_id: int):
    """Archive a cohort (asked first): it leaves day-to-day lists; nothing in it is deleted."""
    cohort = _cohort_or_404(cohort_id)
    if request.method == "GET":
        return _confirm(
            f"Archive {cohort.name}?", "Archive cohort",
            [f"{cohort.name} will leave day-to-day lists and no one can be enrolled in it. "
             "Its learners and all their work are kept, and you can unarchive it later."],
            url_for("cohorts.archive", cohort_id=cohort.id), cohort)
    if not ActionForm().validate_on_submit():
        abort(400)
    cohort_admin.set_archived(cohort, True, current_user)
    flash(f"{cohort.name} is archived. Its learners' work is kept.", "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.post("/<int:cohort_id>/unarchive")
@role_required(*_MANAGERS)
def unarchive(cohort_id: int):
    """Bring an archived cohort back into day-to-day lists."""
    cohort = _cohort_or_404(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    cohort_admin.set_archived(cohort, False, current_user)
    flash(f"{cohort.name} is back in your list of cohorts.", "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


def _person_form(role: Role, staffing, **kwargs) -> PersonForm:
    form = PersonForm(prefix=str(role), **kwargs)
    if role is Role.ASSESSOR:
        taken = {u.id for u in staffing.assessors}
    else:
        taken = {staffing.iqa.id} if staffing.iqa else set()
    people = [u for u in cohort_admin.candidates(role, current_user) if u.id not in taken]
    form.user_id.choices = [("", "Choose an assessor" if role is Role.ASSESSOR
                             else "Choose an IQA")] + [
        (str(u.id), f"{u.name} ({u.email})") for u in people]
    if role is Role.ASSESSOR:
        form.user_id.label.text = "Add an assessor"
        form.choose_message = "Choose the assessor to add."
    else:
        form.user_id.label.text = "Replace the IQA" if staffing.iqa else "Assign an IQA"
        form.choose_message = "Choose the internal quality assurer."
    return form


def _render_cohort(cohort: Cohort, enrol_form=None, assessor_form=None, iqa_form=None,
                   elsewhere=None):
    """The cohort page; a form that failed validation is passed in to show its errors."""
    staffing = cohort_admin.staffing(cohort)
    centre = db.session.get(Centre, cohort.centre_id) if cohort.centre_id else None
    counts = deadlines.cohort_overdue_counts([cohort.id], _items(), _today())[cohort.id]
    unit = next((u for u in get_catalog().units if u.id == cohort.unit_id), None)
    failed = next((f for f in (enrol_form, assessor_form, iqa_form) if f and f.errors), None)
    return render_template(
        "cohorts/cohort.html", cohort=cohort, centre=centre, unit=unit, staffing=staffing,
        enrolments=cohort_admin.current_enrolments(cohort), counts=counts, failed=failed,
        enrol_form=enrol_form or EnrolForm(formdata=None), elsewhere=elsewhere,
        assessor_form=assessor_form or _person_form(Role.ASSESSOR, staffing, formdata=None),
        iqa_form=iqa_form or _person_form(Role.IQA, staffing, formdata=None),
    )


@bp.get("/<int:cohort_id>")
@role_required(*_MANAGERS)
def show(cohort_id: int):
    """A cohort's learners and staff, how they stand against its deadlines, and the forms to
    change them (a fixed number of queries however many learners)."""
    return _render_cohort(_cohort_or_404(cohort_id))


@bp.post("/<int:cohort_id>/learners")
@role_required(*_MANAGERS)
def enrol(cohort_id: int):
    """Enrol an existing learner account by email address."""
    cohort = _cohort_or_404(cohort_id)
    form = EnrolForm()
    elsewhere = None
    if form.validate_on_submit():
        try:
            learner = cohort_admin.enrol_by_email(cohort, form.email.data, current_user,
                                                  form.choice.data or None)
        except cohort_admin.AlreadyElsewhere as exc:
            elsewhere = exc
            _show_error(form, exc)
        except CohortError as exc:
            _show_error(form, exc)
        else:
            moved = form.choice.data == "move"
            flash(f"{learner.name} is {'moved to' if moved else 'enrolled in'} {cohort.name}.",
                  "success")
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    return _render_cohort(cohort, enrol_form=form, elsewhere=elsewhere)


@bp.route("/<int:cohort_id>/learners/<int:user_id>/remove", methods=["GET", "POST"])
@role_required(*_MANAGERS)
def remove(cohort_id: int, user_id: int):
    """Take a learner out of the cohort (asked first); their progress and work are kept."""
    cohort = _cohort_or_404(cohort_id)
    enrolment = _enrolment_or_404(cohort, user_id)
    if request.method == "GET":
        name = enrolment.user.name
        return _confirm(
            f"Remove {name} from {cohort.name}?", "Remove learner",
            [f"{name} will no longer be in {cohort.name}: its staff will stop seeing their "
             "work there, and its deadlines will no longer apply to them.",
             "Their progress, quiz attempts and written work are kept. To move them to "
             "another cohort instead, use Move."],
            url_for("cohorts.remove", cohort_id=cohort.id, user_id=user_id), cohort)
    if not ActionForm().validate_on_submit():
        abort(400)
    cohort_admin.remove_learner(cohort, enrolment.user, current_user, utcnow())
    flash(f"{enrolment.user.name} is no longer in {cohort.name}. Their work is kept.",
          "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.route("/<int:cohort_id>/learners/<int:user_id>/move", methods=["GET", "POST"])
@role_required(*_MANAGERS)
def move(cohort_id: int, user_id: int):
    """Move a learner to another cohort the person manages; their work comes with them."""
    cohort = _cohort_or_404(cohort_id)
    learner = _enrolment_or_404(cohort, user_id).user
    targets = cohort_admin.move_targets(current_user, cohort)
    form = MoveForm()
    form.target.choices = [("", "Choose a cohort")] + [(str(c.id), c.name) for c in targets]
    form.target.label.text = f"Move {learner.name} to"
    if form.validate_on_submit():
        target = db.session.get(Cohort, int(form.target.data))
        try:
            cohort_admin.move_learner(learner, cohort, target, current_user, utcnow())
        except CohortError as exc:
            _show_error(form, exc)
        else:
            flash(f"{learner.name} moved from {cohort.name} to {target.name}, with all their "
                  "progress and work.", "success")
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    return render_template("cohorts/move.html", cohort=cohort, learner=learner, form=form,
                           targets=targets)


@bp.post("/<int:cohort_id>/assessors")
@role_required(*_MANAGERS)
def add_assessor(cohort_id: int):
    """Assign another assessor to the cohort."""
    cohort = _cohort_or_404(cohort_id)
    form = _person_form(Role.ASSESSOR, cohort_admin.staffing(cohort))
    if form.validate_on_submit():
        assessor = db.session.get(User, int(form.user_id.data))
        try:
            cohort_admin.assign_assessor(cohort, assessor, current_user)
        except CohortError as exc:
            _show_error(form, exc)
        else:
            flash(f"{assessor.name} now assesses {cohort.name}.", "success")
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    return _render_cohort(cohort, assessor_form=form)


@bp.post("/<int:cohort_id>/iqa")
@role_required(*_MANAGERS)
def set_iqa(cohort_id: int):
    """Assign the cohort's IQA, replacing the previous one."""
    cohort = _cohort_or_404(cohort_id)
    form = _person_form(Role.IQA, cohort_admin.staffing(cohort))
    if form.validate_on_submit():
        iqa = db.session.get(User, int(form.user_id.data))
        try:
            replaced = cohort_admin.set_iqa(cohort, iqa, current_user)
        except CohortError as exc:
            _show_error(form, exc)
        else:
            flash(f"{iqa.name} is now the IQA for {cohort.name}"
                  + (f", in place of {replaced.name}." if replaced else "."), "success")
            return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    return _render_cohort(cohort, iqa_form=form)


@bp.post("/<int:cohort_id>/staff/<int:user_id>/<role>/remove")
@role_required(*_MANAGERS)
def unassign(cohort_id: int, user_id: int, role: str):
    """Take an assessor or the IQA off the cohort; decisions they made stay."""
    cohort = _cohort_or_404(cohort_id)
    if role not in (Role.ASSESSOR.value, Role.IQA.value):
        abort(404)
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        cohort_admin.unassign(cohort, person, Role(role), current_user)
    except CohortError:
        abort(404)
    flash(f"{person.name} is no longer {'an assessor' if role == 'assessor' else 'the IQA'} "
          f"for {cohort.name}.", "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.route("/<int:cohort_id>/deadlines", methods=["GET", "POST"])
@role_required(*_MANAGERS)
def edit_deadlines(cohort_id: int):
    """A target date for each module, quiz and written task of the cohort's unit (blank:
    none), saved in one go."""
    cohort = _cohort_or_404(cohort_id)
    items = for_unit(_items(), cohort.unit_id)
    current = deadlines.deadlines_by_cohort([cohort.id])[cohort.id]
    sources = cohort_admin.managed_cohorts(current_user, include_archived=True)
    kwargs = {}
    filled = None
    if request.method == "GET":
        start = {key: d.due_on for key, d in current.items()}
        filled = _filled_from(request.args, sources, start, [i.key for i in items])
        kwargs = {"formdata": None, "data": {
            field_name(*key): due for key, due in (filled[1] if filled else start).items()}}
    form = deadlines_form(items, cohort.starts_on, cohort.ends_on, **kwargs)
    if request.method == "POST" and form.validate_on_submit():
        dates = {key: form[name].data for name, key in form.item_keys.items()}
        changed = deadlines.save_deadlines(cohort, dates, current_user, utcnow())
        flash(f"Deadlines saved ({changed} changed)." if changed else
              "No deadlines were changed.", "success")
        return redirect(url_for("cohorts.show", cohort_id=cohort.id))
    groups = [(label, [(item, form[field_name(item.kind, item.slug)]) for item in items
                       if item.kind == kind])
              for kind, label in (("module", "Modules"), ("quiz", "Quizzes"),
                                  ("task", "Written tasks"))]
    return render_template("cohorts/deadlines.html", cohort=cohort, form=form,
                           groups=[g for g in groups if g[1]], sources=sources,
                           filled=filled[0] if filled else None,
                           shift=request.args.get("shift", "0"),
                           source_id=request.args.get("source", str(cohort.id)))


def _filled_from(args, sources: list[Cohort], current, keys):
    """(a sentence saying what was filled in, the dates) when the page was asked to copy
    dates from a cohort the person manages and/or move them; None otherwise. A cohort
    the person does not manage is refused (404), whatever its id."""
    if "source" not in args and "shift" not in args:
        return None
    by_id = {str(c.id): c for c in sources}
    source = by_id.get(args.get("source", ""))
    if source is None:
        abort(404)
    try:
        shift = int(args.get("shift", "0").strip() or 0)
        dates = deadlines.filled_from(
            {key: d.due_on for key, d in deadlines.deadlines_by_cohort([source.id])[
                source.id].items()}, current, keys, shift)
    except ValueError:
        flash(f"Shift the dates by a whole number of days, at most "
              f"{deadlines.MAX_SHIFT_DAYS} either way.", "error")
        return None
    moved = ("" if shift == 0 else f", moved {abs(shift)} day{'s' if abs(shift) != 1 else ''} "
             f"{'later' if shift > 0 else 'earlier'}")
    return f"Dates filled in from {source.name}{moved}.", dates
