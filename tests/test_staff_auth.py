"""Signing in to the staff site: password, second factor, enrolment, lock-out, idle time."""

import itertools
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from appointments.staff_auth import PENDING_SESSION_KEY
from tests.conftest import sign_in_with_second_factor
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

PASSWORD = "een-lang-wachtwoord-voor-tests"
LOGIN_URL = "/beheer/login/"
SECOND_STEP_URL = "/beheer/tweede-stap/"
ENROL_URL = "/beheer/inrichten/"
BACKUP_CODES_URL = "/beheer/reservecodes/"
INDEX_URL = "/beheer/"
GENERIC_ERROR = "Deze gebruikersnaam en dit wachtwoord horen niet bij elkaar"
# A moment in the middle of a 30-second TOTP step, so a test never straddles two codes.
START = datetime(2031, 3, 4, 10, 0, 10, tzinfo=UTC)


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="sanne", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def totp_device(staff_user):
    return TOTPDevice.objects.create(user=staff_user, name="app", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=device.drift):06d}"


def post_password(client, username="sanne", password=PASSWORD, next_url=None):
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN_URL, data)


def sign_in(client, device, next_url=None):
    response = post_password(client, username=device.user.username, next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == SECOND_STEP_URL
    return client.post(SECOND_STEP_URL, {"code": code_for(device)})


def _candidates(name: str, booking) -> list[str]:
    """Sample values for a URL argument, the likeliest for its name first."""
    by_name = {
        "app_label": "appointments",
        "object_id": str(booking.pk),
        "public_id": str(booking.public_id),
        "url": "zomaar",
    }
    generic = [str(booking.pk), str(booking.public_id), "2031-03-04", "appointments", "1"]
    return [by_name[name], *generic] if name in by_name else generic


def _reverse_with_samples(pattern, booking) -> str:
    names = list(pattern.pattern.regex.groupindex)
    for values in itertools.product(*(_candidates(name, booking) for name in names)):
        try:
            return reverse(f"admin:{pattern.name}", kwargs=dict(zip(names, values, strict=True)))
        except NoReverseMatch:
            continue
    raise AssertionError(f"no sample arguments for admin:{pattern.name} ({pattern.pattern})")


def _admin_urls(booking) -> list[str]:
    """Every URL under the admin, reversed from admin.site.get_urls() with sample values."""
    own_sign_in = {"login", "login_second_step", "login_enrol", "login_backup_codes"}
    urls = ["/beheer/bestaat-niet/"]  # the catch-all view

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield pattern

    for pattern in walk(admin.site.get_urls()):
        if pattern.name not in own_sign_in:
            urls.append(_reverse_with_samples(pattern, booking))
    return sorted(set(urls))


def _assert_no_admin_data(client, booking):
    urls = _admin_urls(booking)
    # The index, every registered model's changelist, add and change page, and more.
    assert INDEX_URL in urls
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        assert reverse("admin:{}_{}_changelist".format(*info)) in urls
    login_url = reverse("admin:login")
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (302, 403), (url, response.status_code)
            if response.status_code == 302:
                target = response["Location"]
                assert target.startswith(login_url) or target == INDEX_URL, (url, target)
            assert booking.reference.encode() not in response.content, url


def test_a_password_alone_opens_no_admin_url(client, staff_user, totp_device):
    booking = BookingFactory()
    response = post_password(client)
    assert response["Location"] == SECOND_STEP_URL

    _assert_no_admin_data(client, booking)
    # Still waiting for the second step, not signed in.
    assert SESSION_KEY not in client.session


def test_a_signed_in_session_without_second_factor_opens_no_admin_url(client, staff_user):
    booking = BookingFactory()
    client.force_login(staff_user)

    _assert_no_admin_data(client, booking)


def test_password_and_totp_code_reach_the_index(client, totp_device):
    with time_machine.travel(START, tick=False):
        response = sign_in(client, totp_device)

        assert response.status_code == 302
        assert response["Location"] == INDEX_URL
        assert client.session[DEVICE_ID_SESSION_KEY] == totp_device.persistent_id
        assert client.get(INDEX_URL).status_code == 200


def test_the_sign_in_pages_are_dutch_and_keep_the_admin_look(client, totp_device):
    page = client.get(LOGIN_URL)
    assert page.status_code == 200
    assert "admin/css/login.css" in page.text
    assert "Gebruikersnaam" in page.text and "Wachtwoord" in page.text

    post_password(client)
    page = client.get(SECOND_STEP_URL)
    assert "Code uit je app" in page.text
    assert 'autocomplete="one-time-code"' in page.text


def test_a_wrong_code_shows_an_error_and_the_device_slows_down_retries(client, totp_device):
    with time_machine.travel(START, tick=False) as traveller:
        post_password(client)
        response = client.post(SECOND_STEP_URL, {"code": "000000"})

        assert response.status_code == 200
        assert "Deze code klopt niet" in str(response.context["form"].errors["code"])

        # Right away, even the right code waits for django-otp's throttle to pass.
        response = client.post(SECOND_STEP_URL, {"code": code_for(totp_device)})
        assert "1 keer een onjuiste code" in str(response.context["form"].errors["code"])
        assert SESSION_KEY not in client.session

        traveller.shift(2)
        response = client.post(SECOND_STEP_URL, {"code": code_for(totp_device)})
        assert response["Location"] == INDEX_URL


def test_wrong_codes_count_as_failed_sign_ins_for_the_lock_out(client, settings, totp_device):
    settings.AXES_FAILURE_LIMIT = 2
    with time_machine.travel(START, tick=False) as traveller:
        post_password(client)
        client.post(SECOND_STEP_URL, {"code": "000000"})
        traveller.shift(5)
        response = client.post(SECOND_STEP_URL, {"code": "000001"})

        assert response.status_code == 429
        assert "Te veel mislukte pogingen" in response.text
        assert PENDING_SESSION_KEY not in client.session
        assert post_password(client).status_code == 429


def test_a_backup_code_works_once(client, totp_device):
    static = StaticDevice.objects.create(user=totp_device.user, name="reserve", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345")

    post_password(client)
    response = client.post(SECOND_STEP_URL, {"code": "ABCD 2345"})
    assert response["Location"] == INDEX_URL
    assert client.get(INDEX_URL).status_code == 200
    assert not static.token_set.exists()

    client.post(reverse("admin:logout"))
    post_password(client)
    response = client.post(SECOND_STEP_URL, {"code": "abcd2345"})
    assert response.status_code == 200
    assert "Deze code klopt niet" in str(response.context["form"].errors["code"])
    assert client.get(INDEX_URL).status_code == 302


RENEW_URL = "/beheer/reservecodes/nieuw/"


def test_a_signed_in_user_makes_new_backup_codes_with_the_apps_code(client, totp_device):
    static = StaticDevice.objects.create(user=totp_device.user, name="reserve", confirmed=True)
    StaticToken.objects.create(device=static, token="oldcode1")
    with time_machine.travel(START, tick=False):
        sign_in(client, totp_device)
        assert "Nieuwe reservecodes" in client.get(INDEX_URL).text  # in the user tools
        page = client.get(RENEW_URL)
    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        wrong = client.post(RENEW_URL, {"code": "000000"})
    # The next code of the app, once django-otp's pause after the wrong one is over.
    with time_machine.travel(START + timedelta(seconds=60), tick=False):
        response = client.post(RENEW_URL, {"code": code_for(totp_device)})

    assert page.status_code == 200 and 'name="code"' in page.text
    assert wrong.status_code == 200 and wrong.context["form"].errors["code"]
    assert response["Location"] == BACKUP_CODES_URL
    codes = client.get(BACKUP_CODES_URL).context["codes"]
    assert len(codes) == 10 and set(codes) == set(
        StaticToken.objects.filter(device__user=totp_device.user).values_list("token", flat=True)
    )
    assert not StaticToken.objects.filter(token="oldcode1").exists()
    assert client.get(BACKUP_CODES_URL)["Location"] == INDEX_URL  # shown once


def test_new_backup_codes_need_a_signed_in_user_with_the_second_factor(client, totp_device):
    post_password(client)  # step one only

    for response in (client.get(RENEW_URL), client.post(RENEW_URL, {"code": "123456"})):
        assert response.status_code == 302 and response["Location"].startswith(LOGIN_URL)
    assert not StaticToken.objects.exists()


def test_enrolment_confirms_a_new_device_and_shows_ten_backup_codes_once(client, staff_user):
    with time_machine.travel(START, tick=False):
        response = post_password(client)
        assert response["Location"] == ENROL_URL

        page = client.get(ENROL_URL)
        device = TOTPDevice.objects.get(user=staff_user)
        assert not device.confirmed
        assert 'src="data:image/svg+xml' in page.text
        assert "style=" not in page.text
        assert page.context["secret"].replace(" ", "") in page.text.replace(" ", "")
        # A reload shows the same secret, so a scanned QR code stays good.
        client.get(ENROL_URL)
        assert TOTPDevice.objects.filter(user=staff_user).count() == 1

        response = client.post(ENROL_URL, {"code": "123"})
        assert response.status_code == 200
        assert response.context["form"].errors["code"]

    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        response = client.post(ENROL_URL, {"code": code_for(device)})
        assert response["Location"] == BACKUP_CODES_URL
        device.refresh_from_db()
        assert device.confirmed

        page = client.get(BACKUP_CODES_URL)
        codes = page.context["codes"]
        assert len(codes) == 10
        assert sorted(codes) == sorted(
            StaticToken.objects.filter(device__user=staff_user).values_list("token", flat=True)
        )
        for code in codes:
            assert code in page.text
        assert "Bewaar deze codes" in page.text

        again = client.get(BACKUP_CODES_URL)
        assert again.status_code == 302
        assert codes[0] not in client.get(INDEX_URL).text
        assert client.get(INDEX_URL).status_code == 200


def test_enrolment_is_closed_once_a_device_is_confirmed(client, totp_device):
    post_password(client)

    response = client.get(ENROL_URL)

    assert response["Location"] == SECOND_STEP_URL
    assert TOTPDevice.objects.filter(user=totp_device.user).count() == 1


def test_the_second_step_and_enrolment_need_a_password_first(client, totp_device):
    for url in (SECOND_STEP_URL, ENROL_URL, BACKUP_CODES_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == LOGIN_URL
    assert client.post(SECOND_STEP_URL, {"code": code_for(totp_device)}).status_code == 302
    assert SESSION_KEY not in client.session


def test_the_first_step_expires_after_the_idle_time(client, settings, totp_device):
    settings.SPREEKUUR_STAFF_IDLE_MINUTES = 30
    with time_machine.travel(START, tick=False) as traveller:
        post_password(client)
        traveller.shift(timedelta(minutes=31))

        response = client.post(SECOND_STEP_URL, {"code": code_for(totp_device)})

        assert response["Location"] == LOGIN_URL
        assert SESSION_KEY not in client.session


def test_lock_out_after_the_failure_limit_even_with_the_right_password(
    client, settings, staff_user
):
    settings.AXES_FAILURE_LIMIT = 3
    for _attempt in range(2):
        response = post_password(client, password="fout")
        assert response.status_code == 200
        assert GENERIC_ERROR in response.text

    response = post_password(client, password="fout")
    assert response.status_code == 429
    assert "Te veel mislukte pogingen. Probeer het over 30 minuten opnieuw" in response.text

    response = post_password(client)
    assert response.status_code == 429
    assert PENDING_SESSION_KEY not in client.session


def test_a_user_who_is_not_staff_gets_the_same_error_as_a_wrong_password(
    client, django_user_model, staff_user
):
    django_user_model.objects.create_user(username="klant", password=PASSWORD)
    django_user_model.objects.create_user(
        username="oud", password=PASSWORD, is_staff=True, is_active=False
    )

    wrong_password = post_password(client, password="fout")
    not_staff = post_password(client, username="klant")
    inactive = post_password(client, username="oud")

    expected = wrong_password.context["form"].non_field_errors()
    assert GENERIC_ERROR in str(expected)
    for response in (not_staff, inactive):
        assert response.status_code == 200
        assert response.context["form"].non_field_errors() == expected
        assert PENDING_SESSION_KEY not in client.session


def test_a_next_url_on_another_host_is_ignored(client, totp_device):
    with time_machine.travel(START, tick=False):
        response = sign_in(client, totp_device, next_url="https://elders.example/beheer/")
    assert response["Location"] == INDEX_URL


def test_a_next_url_on_this_site_is_followed(client, totp_device):
    target = reverse("admin:appointments_booking_changelist")
    with time_machine.travel(START, tick=False):
        response = sign_in(client, totp_device, next_url=target)
    assert response["Location"] == target


def test_an_idle_staff_session_ends(client, settings, staff_user):
    settings.SPREEKUUR_STAFF_IDLE_MINUTES = 30
    with time_machine.travel(START, tick=False) as traveller:
        sign_in_with_second_factor(client, staff_user)
        assert client.get(INDEX_URL).status_code == 200
        # Activity keeps the session going.
        traveller.shift(timedelta(minutes=29))
        assert client.get(INDEX_URL).status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get(INDEX_URL).status_code == 200

        traveller.shift(timedelta(minutes=31))
        response = client.get(INDEX_URL)

        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN_URL}?next={INDEX_URL}"
        assert SESSION_KEY not in client.session
        assert "niets hebt gedaan" in client.get(response["Location"]).text


def test_an_idle_timeout_leaves_client_pages_alone(client, settings):
    with time_machine.travel(START, tick=False) as traveller:
        assert client.get("/").status_code == 200
        traveller.shift(timedelta(hours=3))
        response = client.get("/")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


def test_a_deactivated_account_loses_its_session_at_once(client, staff_user):
    sign_in_with_second_factor(client, staff_user)
    assert client.get(INDEX_URL).status_code == 200

    staff_user.is_active = False
    staff_user.save()
    response = client.get(INDEX_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    # The session is gone, not just refused: switching the account back on
    # does not bring it back.
    staff_user.is_active = True
    staff_user.save()
    assert client.get(INDEX_URL).status_code == 302


# demo_login


@pytest.fixture
def demo_users(django_user_model):
    return [
        django_user_model.objects.create_user(username=name, is_staff=True)
        for name in ("balie", "zorgverlener", "teamleider", "beheerder")
    ]


def test_demo_login_prints_a_password_and_code_that_sign_in(client, demo_users):
    out = StringIO()
    with time_machine.travel(START, tick=False):
        call_command("demo_login", stdout=out)
        text = out.getvalue()

        assert "http://127.0.0.1:8000/beheer/" in text
        for user in demo_users:
            assert f"demo_login --code {user.username}" in text
            assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        block = text.split("gebruikersnaam: teamleider", 1)[1]
        password = re.search(r"wachtwoord:\s+(\S+)", block).group(1)
        code = re.search(r"code nu:\s+(\d{6})", block).group(1)

        response = post_password(client, username="teamleider", password=password)
        assert response["Location"] == SECOND_STEP_URL
        response = client.post(SECOND_STEP_URL, {"code": code})
        assert response["Location"] == INDEX_URL


def test_demo_login_code_prints_only_the_current_code(demo_users):
    call_command("demo_login", stdout=StringIO())
    device = TOTPDevice.objects.get(user=demo_users[0])
    out = StringIO()

    with time_machine.travel(START, tick=False):
        call_command("demo_login", "--code", "balie", stdout=out)
        assert out.getvalue().strip() == code_for(device)


def test_demo_login_without_demo_users_says_so(db):
    out = StringIO()
    call_command("demo_login", stdout=out)
    assert "geen demo-medewerkers" in out.getvalue()


def test_demo_login_refuses_in_production(settings, demo_users):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("demo_login", stdout=StringIO())
