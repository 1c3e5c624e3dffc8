"""Personal values are encrypted at rest; keys rotate; a raw dump holds none of them."""

import shutil
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from appointments import crypto, services
from appointments.models import Booking, IntakeAnswer, IntakeQuestion, WaitlistEntry
from tests.factories import IntakeQuestionFactory, SlotFactory, WaitlistEntryFactory

CANARY = {
    "nickname": "Kanarie-Nick-7f3a",
    "email": "kanarie-7f3a@example.org",
    "phone": "+31612347f3a",
    "answer": "Kanarie-Antwoord-7f3a",
    "note": "Kanarie-Notitie-7f3a",
}


def _book_with_canaries() -> Booking:
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SHORT_TEXT)
    hold = services.slot_hold(slot_id=slot.pk)
    booking = services.booking_confirm(
        hold_public_id=hold.public_id,
        nickname=CANARY["nickname"],
        responses=[services.IntakeResponse(question=question, value=CANARY["answer"])],
        contact=services.ContactDetails(email=CANARY["email"], channel="email"),
    ).booking
    Booking.objects.filter(pk=booking.pk).update(staff_note=CANARY["note"], phone=CANARY["phone"])
    WaitlistEntryFactory(email=CANARY["email"], phone=CANARY["phone"])
    return booking


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608 - fixed names
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_personal_values_are_stored_encrypted_and_read_back_in_clear():
    booking = _book_with_canaries()

    for column in ("nickname", "email", "phone", "staff_note"):
        (stored,) = _raw("appointments_booking", column)
        assert crypto.is_sealed(stored), column
    assert all(crypto.is_sealed(v) for v in _raw("appointments_intakeanswer", "value"))
    assert all(crypto.is_sealed(v) for v in _raw("appointments_waitlistentry", "email"))
    booking = Booking.objects.get(pk=booking.pk)
    assert (booking.nickname, booking.email, booking.staff_note) == (
        CANARY["nickname"],
        CANARY["email"],
        CANARY["note"],
    )
    assert IntakeAnswer.objects.get(booking=booking).value == CANARY["answer"]


@pytest.mark.django_db
def test_an_encrypted_field_refuses_a_lookup_that_could_not_work():
    with pytest.raises(TypeError, match="encrypted"):
        list(WaitlistEntry.objects.filter(email="someone@example.org"))


@pytest.mark.django_db
def test_keys_rotate_and_reencrypt_puts_everything_under_the_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    booking = _book_with_canaries()
    new_key = Fernet.generate_key().decode()

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    from django.core.management import call_command

    call_command("reencrypt_personal_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]

    rotated = Booking.objects.get(pk=booking.pk)
    assert rotated.nickname == CANARY["nickname"]
    # The manage link kept for messages is re-sealed too, or reminders would lose it.
    assert Fernet(new_key).decrypt(rotated.manage_token_sealed.encode())
    assert IntakeAnswer.objects.get(booking=booking).value == CANARY["answer"]
    (stored,) = _raw("appointments_booking", "nickname")
    assert Fernet(new_key).decrypt(stored.encode()).decode() == CANARY["nickname"]


@pytest.mark.django_db(transaction=True)
def test_a_raw_pg_dump_holds_none_of_the_personal_values(postgresql):
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is part of the PostgreSQL client tools"
    _book_with_canaries()
    db = connection.settings_dict

    dump = subprocess.run(  # noqa: S603 - fixed command
        [
            pg_dump,
            "--data-only",
            "-h",
            db["HOST"] or "127.0.0.1",
            "-p",
            str(db["PORT"] or 5432),
            "-U",
            db["USER"] or "postgres",
            db["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "appointments_booking" in dump
    for name, value in CANARY.items():
        assert value not in dump, name
