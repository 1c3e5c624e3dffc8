"""The staff roles: Django groups with exactly the permissions each role needs.

A role is a group; `roles_setup` creates or corrects them (run by
`python manage.py setup_roles`, idempotent). Object-level rules that a group
cannot express, such as "a clinician sees only their own appointments", live
in the admin querysets (admin.py) and the staff pages (staff_views.py), which
ask `sees_all_bookings` and the permissions named here.

Who sees intake answers: only holders of `appointments.view_intake`, that is
clinicians (of their own appointments) and team leads. The front desk runs the
schedules and bookings without ever seeing them; functional admins configure
services and questionnaires and see no client data at all.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

VIEW_ALL_BOOKINGS = "appointments.view_all_bookings"


def sees_all_bookings(user) -> bool:
    """The one rule for admin and staff pages: with `view_all_bookings` every
    appointment, without it only those of the clinician linked to `user`."""
    return user.has_perm(VIEW_ALL_BOOKINGS)


FRONT_DESK = "Balie"
CLINICIAN = "Zorgverlener"
TEAM_LEAD = "Teamleider"
FUNCTIONAL_ADMIN = "Functioneel beheer"


def _crud(model: str, *actions: str) -> list[str]:
    return [f"{action}_{model}" for action in (actions or ("view", "add", "change", "delete"))]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    FRONT_DESK: [
        *_crud("booking", "view", "change"),
        "view_all_bookings",
        "book_on_behalf",
        "export_daylist",
        *_crud("availabilityrule"),
        *_crud("closure"),
        *_crud("slot", "view", "add", "change"),
        *_crud("clinician", "view", "change"),
        *_crud("location", "view"),
        *_crud("service", "view"),
        *_crud("message", "view", "change"),
        *_crud("waitlistentry", "view"),
    ],
    CLINICIAN: [
        *_crud("booking", "view", "change"),
        "view_intake",
        *_crud("slot", "view"),
        *_crud("clinician", "view"),
        *_crud("location", "view"),
        *_crud("service", "view"),
        *_crud("message", "view"),
    ],
    TEAM_LEAD: [
        *_crud("booking", "view", "change"),
        "view_intake",
        "view_all_bookings",
        "book_on_behalf",
        "export_daylist",
        "view_dashboard",
        *_crud("availabilityrule"),
        *_crud("closure"),
        *_crud("slot", "view", "add", "change"),
        *_crud("clinician"),
        *_crud("location", "view"),
        *_crud("service", "view"),
        *_crud("intakequestion", "view"),
        *_crud("intakechoice", "view"),
        *_crud("message", "view", "change"),
        *_crud("waitlistentry", "view"),
        *_crud("accesslogentry", "view"),
    ],
    FUNCTIONAL_ADMIN: [
        *_crud("service"),
        *_crud("intakequestion"),
        *_crud("intakechoice"),
        *_crud("location"),
    ],
}


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create the four groups and give each exactly its permissions."""
    counts = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(
                content_type__app_label="appointments", codename__in=codenames
            )
        )
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise LookupError(f"unknown permissions for {name}: {sorted(missing)}")
        group.permissions.set(permissions)
        counts[name] = len(permissions)
    return counts
