"""`manage.py seed_demo`: a GGD Amsterdam set-up to try Spreekuur with.

Creates locations, three consultation hours with their intake questions (NL and
EN), clinicians with weekly availability, closures, four weeks of slots, the
staff roles, one staff account per role and a few appointments (one with an
acute-risk answer). It only runs on a database without any consultation hour, so
a second run changes nothing. It refuses to run in production. The clinicians,
clients and the second address are invented.

The staff accounts get random passwords that nobody knows: `manage.py demo_login`
sets fresh ones and prints them with the codes for the second factor. There is no
superuser: a superuser passes every permission, and the demo is there to show the
roles.
"""

import secrets
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from appointments import roles
from appointments.models import (
    AvailabilityRule,
    Booking,
    Clinician,
    Closure,
    ContactChannel,
    IntakeChoice,
    IntakeQuestion,
    Location,
    Service,
)

Weekday = AvailabilityRule.Weekday
Kind = IntakeQuestion.Kind
Profession = Clinician.Profession

ADMIN_URL = "http://127.0.0.1:8000/beheer/"

# username: role. The clinician account belongs to Sanne (CLINICIAN_ACCOUNT), who
# holds the most chemsex hours, so it has appointments of its own to prepare.
STAFF_USERS = {
    "balie": roles.FRONT_DESK,
    "zorgverlener": roles.CLINICIAN,
    "teamleider": roles.TEAM_LEAD,
    "beheerder": roles.FUNCTIONAL_ADMIN,
}
CLINICIAN_ACCOUNT = ("zorgverlener", "sanne")

LOCATIONS = {
    "centrum": {
        "name": "GGD Amsterdam Nieuwe Achtergracht",
        "address": "Nieuwe Achtergracht 100",
        "postal_code": "1018 WT",
        "directions_nl": (
            "Tram of metro tot halte Weesperplein, dan 5 minuten lopen. "
            "Meld je bij de balie op de begane grond en noem je referentiecode. "
            "Het gebouw is toegankelijk met een rolstoel."
        ),
        "directions_en": (
            "Tram or metro to the Weesperplein stop, then a 5-minute walk. "
            "Report to the front desk on the ground floor and give your reference code. "
            "The building is wheelchair accessible."
        ),
    },
    "zuidoost": {
        "name": "GGD Amsterdam Zuidoost",
        "address": "Bijlmerdreef 1005",
        "postal_code": "1103 TV",
        "directions_nl": (
            "Metro 53 tot station Ganzenhoef, dan 3 minuten lopen. "
            "Meld je bij de balie en noem je referentiecode."
        ),
        "directions_en": (
            "Metro 53 to Ganzenhoef station, then a 3-minute walk. "
            "Report to the front desk and give your reference code."
        ),
    },
}

NO_ID_NL = "Je hoeft je niet te legitimeren en je hoeft je naam niet te geven."
NO_ID_EN = "You do not need to show ID and you do not need to give your name."

SERVICES = {
    "chemsex": {
        "name_nl": "Chemsex spreekuur",
        "name_en": "Chemsex consultation",
        "slot_minutes": 45,
        "order": 1,
        "description_nl": (
            "Heb je seks met drugs, zoals tina, miauw miauw of GHB? En wil je daarover praten? "
            "Op dit spreekuur praat je met een verpleegkundige, arts of psycholoog. "
            "Jij bepaalt waar het gesprek over gaat: veiliger gebruiken, minderen of stoppen, "
            "soa, hoe je je voelt. We oordelen niet. Het gesprek duurt ongeveer 45 minuten. "
            "Als je wilt, helpen we je verder, bijvoorbeeld naar een soa-test of verslavingszorg."
        ),
        "description_en": (
            "Do you have sex on drugs, such as tina, meow meow or GHB? And do you want to talk "
            "about it? At this consultation you talk with a nurse, doctor or psychologist. "
            "You decide what the conversation is about: safer use, cutting down or stopping, "
            "STIs, how you feel. We do not judge. The conversation takes about 45 minutes. "
            "If you like, we help you further, for example to an STI test or addiction care."
        ),
        "what_to_bring_nl": f"Je hoeft niets mee te nemen. {NO_ID_NL}",
        "what_to_bring_en": f"You do not need to bring anything. {NO_ID_EN}",
    },
    "prep": {
        "name_nl": "PrEP-spreekuur",
        "name_en": "PrEP consultation",
        "slot_minutes": 20,
        "order": 2,
        "description_nl": (
            "PrEP is een pil die je beschermt tegen hiv. Op dit spreekuur vertellen we wat PrEP "
            "is en of het bij jou past. Gebruik je al PrEP? Dan doen we de controle: een soa-test "
            "en een bloedtest. Het gesprek duurt ongeveer 20 minuten."
        ),
        "description_en": (
            "PrEP is a pill that protects you against HIV. At this consultation we tell you what "
            "PrEP is and whether it suits you. Already using PrEP? Then we do your check-up: an "
            "STI test and a blood test. It takes about 20 minutes."
        ),
        "what_to_bring_nl": f"Gebruik je al PrEP? Neem dan je pillen of het doosje mee. {NO_ID_NL}",
        "what_to_bring_en": f"Already using PrEP? Then bring your pills or the box. {NO_ID_EN}",
    },
    "soa": {
        "name_nl": "Soa-spreekuur",
        "name_en": "STI consultation",
        "slot_minutes": 15,
        "order": 3,
        "description_nl": (
            "Een test op soa, zoals chlamydia, gonorroe, syfilis en hiv. Je praat kort met een "
            "verpleegkundige of arts. Daarna doen we de test. De uitslag krijg je binnen een week."
        ),
        "description_en": (
            "A test for STIs, such as chlamydia, gonorrhoea, syphilis and HIV. You talk briefly "
            "with a nurse or doctor. Then we do the test. You get the result within a week."
        ),
        "what_to_bring_nl": (
            "Je hoeft niets mee te nemen. Plas liever niet in het uur voor je afspraak. " + NO_ID_NL
        ),
        "what_to_bring_en": (
            "You do not need to bring anything. "
            "Try not to pee in the hour before your appointment. " + NO_ID_EN
        ),
    },
}

# (service, kind, text_nl, text_en, help_nl, help_en, choices, acute_risk_answer)
# with choices as (code, text_nl, text_en, acute_risk).
QUESTIONS = [
    (
        "chemsex",
        Kind.MULTIPLE_CHOICE,
        "Welke middelen gebruik je bij seks?",
        "Which substances do you use during sex?",
        "Je mag meer dan één antwoord kiezen.",
        "You may choose more than one answer.",
        [
            ("crystal-meth", "Crystal meth (tina)", "Crystal meth (tina)", False),
            (
                "mephedrone",
                "Mefedron / 3-MMC / 4-MMC (miauw miauw)",
                "Mephedrone / 3-MMC / 4-MMC (meow meow)",
                False,
            ),
            ("ghb", "GHB of GBL", "GHB or GBL", False),
            ("cocaine", "Cocaïne", "Cocaine", False),
            ("ketamine", "Ketamine", "Ketamine", False),
            ("speed", "Speed", "Speed", False),
            (
                "other",
                "Iets anders of zeg ik liever niet",
                "Something else or I'd rather not say",
                False,
            ),
        ],
        "",
    ),
    (
        "chemsex",
        Kind.SINGLE_CHOICE,
        "Hoe vaak heb je seks met drugs?",
        "How often do you have sex on drugs?",
        "",
        "",
        [
            ("once", "Eén keer of een paar keer", "Once or a few times", False),
            ("monthly", "Ongeveer één keer per maand", "About once a month", False),
            ("few-monthly", "Een paar keer per maand", "A few times a month", False),
            ("weekly", "Elke week of vaker", "Every week or more often", False),
            ("rather-not-say", "Zeg ik liever niet", "I'd rather not say", False),
        ],
        "",
    ),
    (
        "chemsex",
        Kind.YES_NO,
        "Spuit je weleens drugs (slammen)?",
        "Do you ever inject drugs (slamming)?",
        "Slammen is drugs in een ader spuiten.",
        "Slamming is injecting drugs into a vein.",
        [],
        "",
    ),
    (
        "chemsex",
        Kind.MULTIPLE_CHOICE,
        "Waar wil je hulp bij?",
        "What would you like help with?",
        "Je mag meer dan één antwoord kiezen.",
        "You may choose more than one answer.",
        [
            (
                "safer-use",
                "Informatie over veiliger gebruiken",
                "Information about safer use",
                False,
            ),
            ("reduce-stop", "Minderen of stoppen", "Cutting down or stopping", False),
            ("sexual-health", "Seksuele gezondheid en soa", "Sexual health and STIs", False),
            (
                "mental-health",
                "Hoe ik me voel (mentale gezondheid)",
                "How I feel (mental health)",
                False,
            ),
            ("talk", "Iemand om mee te praten", "Someone to talk to", False),
            ("other", "Iets anders", "Something else", False),
        ],
        "",
    ),
    (
        "chemsex",
        Kind.SINGLE_CHOICE,
        "Voel je je nu veilig?",
        "Do you feel safe right now?",
        "Denk je aan zelfdoding? Bel 113 of gratis 0800-0113. Bij direct gevaar: bel 112.",
        "Thinking about suicide? Call 113 or 0800-0113 (free). In immediate danger: call 112.",
        [
            ("yes", "Ja", "Yes", False),
            ("unsure", "Ik weet het niet", "I don't know", False),
            (
                "crisis",
                "Nee, ik denk aan zelfdoding of ben in acute nood",
                "No, I am thinking about suicide or I am in acute distress",
                True,
            ),
        ],
        "",
    ),
    (
        "chemsex",
        Kind.SHORT_TEXT,
        "Is er iets dat we vooraf moeten weten?",
        "Is there anything we should know beforehand?",
        "Houd het kort. Je naam is niet nodig.",
        "Keep it short. Your name is not needed.",
        [],
        "",
    ),
    (
        "prep",
        Kind.YES_NO,
        "Gebruik je al PrEP?",
        "Are you already using PrEP?",
        "",
        "",
        [],
        "",
    ),
    (
        "soa",
        Kind.YES_NO,
        "Heb je klachten?",
        "Do you have any symptoms?",
        "Bijvoorbeeld pijn bij het plassen, afscheiding, jeuk of een wondje.",
        "For example pain when peeing, discharge, itching or a sore.",
        [],
        "",
    ),
    (
        "soa",
        Kind.YES_NO,
        "Heeft een sekspartner je laten weten dat je misschien een soa hebt?",
        "Has a sex partner told you that you may have an STI?",
        "",
        "",
        [],
        "",
    ),
]

# (name, profession, services, locations)
CLINICIANS = {
    "sanne": ("Sanne", Profession.NURSE, ["chemsex", "soa"], ["centrum", "zuidoost"]),
    "jeroen": ("Jeroen", Profession.ADDICTION_DOCTOR, ["chemsex"], ["centrum"]),
    "mirjam": ("Mirjam", Profession.PSYCHOLOGIST, ["chemsex"], ["centrum"]),
    "daan": ("Daan", Profession.DOCTOR, ["prep", "soa"], ["centrum", "zuidoost"]),
}

# (clinician, service, location, weekday, from, until, capacity)
RULES = [
    ("sanne", "chemsex", "centrum", Weekday.TUESDAY, time(13), time(17), 1),
    ("jeroen", "chemsex", "centrum", Weekday.TUESDAY, time(13), time(17), 1),
    ("sanne", "chemsex", "centrum", Weekday.THURSDAY, time(13), time(17), 1),
    ("mirjam", "chemsex", "centrum", Weekday.THURSDAY, time(13), time(17), 1),
    ("daan", "prep", "centrum", Weekday.MONDAY, time(9), time(12), 1),
    ("daan", "prep", "zuidoost", Weekday.WEDNESDAY, time(9), time(12), 1),
    ("sanne", "soa", "zuidoost", Weekday.MONDAY, time(9), time(12), 1),
    ("daan", "soa", "centrum", Weekday.TUESDAY, time(13), time(16), 1),
    # A busy afternoon, run walk-in style: two clients per time.
    ("daan", "soa", "centrum", Weekday.WEDNESDAY, time(13), time(16), 2),
    ("daan", "soa", "zuidoost", Weekday.THURSDAY, time(9), time(12), 1),
    ("sanne", "soa", "centrum", Weekday.FRIDAY, time(9), time(12), 1),
]


# Demo appointments, booked the way clients book (hold, then confirm), on the
# first free times: (clinician, service, nickname, source, e-mail, answers), with
# answers as {question text: choice code(s), "yes"/"no" or typed text}.
Source = Booking.Source
BOOKINGS = [
    (
        "sanne",
        "chemsex",
        "Kees",
        Source.ONLINE,
        "",
        {
            "Welke middelen gebruik je bij seks?": ["crystal-meth", "ghb"],
            "Hoe vaak heb je seks met drugs?": "weekly",
            "Spuit je weleens drugs (slammen)?": "yes",
            "Waar wil je hulp bij?": ["reduce-stop", "mental-health"],
            "Voel je je nu veilig?": "crisis",
            "Is er iets dat we vooraf moeten weten?": "Ik slaap al dagen slecht.",
        },
    ),
    (
        "sanne",
        "chemsex",
        "",
        Source.PHONE,
        "client@example.org",
        {
            "Welke middelen gebruik je bij seks?": ["mephedrone"],
            "Hoe vaak heb je seks met drugs?": "monthly",
            "Spuit je weleens drugs (slammen)?": "no",
            "Waar wil je hulp bij?": ["safer-use", "sexual-health"],
            "Voel je je nu veilig?": "yes",
        },
    ),
    (
        "sanne",
        "soa",
        "R.",
        Source.ONLINE,
        "",
        {
            "Heb je klachten?": "no",
            "Heeft een sekspartner je laten weten dat je misschien een soa hebt?": "yes",
        },
    ),
    (
        "jeroen",
        "chemsex",
        "Mo",
        Source.ONLINE,
        "",
        {
            "Welke middelen gebruik je bij seks?": ["ghb", "ketamine"],
            "Hoe vaak heb je seks met drugs?": "few-monthly",
            "Voel je je nu veilig?": "unsure",
        },
    ),
    ("daan", "prep", "", Source.PHONE, "", {"Gebruik je al PrEP?": "yes"}),
]


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def public_holidays(year: int) -> list[tuple[date, date, str]]:
    """The Dutch public holidays on which the GGD is closed, as (first, last, name)."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == Weekday.SUNDAY:
        kings_day -= timedelta(days=1)
    return [
        (date(year, 1, 1), date(year, 1, 1), "Nieuwjaarsdag"),
        (easter + timedelta(days=1), easter + timedelta(days=1), "Tweede paasdag"),
        (kings_day, kings_day, "Koningsdag"),
        (easter + timedelta(days=39), easter + timedelta(days=39), "Hemelvaartsdag"),
        (easter + timedelta(days=50), easter + timedelta(days=50), "Tweede pinksterdag"),
        (date(year, 12, 25), date(year, 12, 26), "Kerstdagen"),
    ]


class Command(BaseCommand):
    help = "Vult een lege database met een demo-opzet van GGD Amsterdam."

    def handle(self, *args, **options):
        from appointments.services import slots_generate

        if getattr(settings, "PRODUCTION", False):
            raise CommandError("seed_demo maakt demo-accounts aan en draait niet in productie.")
        if Service.objects.exists():
            self.stdout.write(
                "Er zijn al spreekuren: de demodata bestaat al. Er is niets veranderd."
            )
            return

        today = timezone.localdate()
        with transaction.atomic():
            roles.roles_setup()
            locations = {key: Location.objects.create(**data) for key, data in LOCATIONS.items()}
            services = {key: Service.objects.create(**data) for key, data in SERVICES.items()}
            question_count = self._create_questions(services)
            clinicians = self._create_clinicians(services, locations, today)
            closure_count = self._create_closures(locations, clinicians, today)
            report = slots_generate(start=today, weeks=4)
            users = self._create_staff_users(clinicians)
            booking_count = self._create_bookings(services, clinicians, now=timezone.now())

        self.stdout.write(
            f"Aangemaakt: {len(locations)} locaties, {len(services)} spreekuren, "
            f"{question_count} intakevragen, {len(clinicians)} zorgverleners, "
            f"{len(RULES)} vaste beschikbaarheden, {closure_count} sluitingen, "
            f"{booking_count} afspraken."
        )
        self.stdout.write(f"Tijdsloten: {report}")
        self.stdout.write(
            "Medewerkers: " + ", ".join(f"{name} ({role})" for name, role in users.items())
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Beheer: {ADMIN_URL}\nAanmelden: .venv/bin/python manage.py demo_login"
            )
        )

    def _create_questions(self, services: dict[str, Service]) -> int:
        for order, (service, kind, text_nl, text_en, help_nl, help_en, choices, acute) in enumerate(
            QUESTIONS, start=1
        ):
            question = IntakeQuestion.objects.create(
                service=services[service],
                kind=kind,
                text_nl=text_nl,
                text_en=text_en,
                help_nl=help_nl,
                help_en=help_en,
                required=False,  # every personal field is optional
                order=order,
                acute_risk_answer=acute,
            )
            IntakeChoice.objects.bulk_create(
                IntakeChoice(
                    question=question,
                    code=code,
                    text_nl=choice_nl,
                    text_en=choice_en,
                    order=choice_order,
                    acute_risk=acute_risk,
                )
                for choice_order, (code, choice_nl, choice_en, acute_risk) in enumerate(
                    choices, start=1
                )
            )
        return len(QUESTIONS)

    def _create_clinicians(self, services, locations, today: date) -> dict[str, Clinician]:
        clinicians = {}
        for key, (name, profession, service_keys, location_keys) in CLINICIANS.items():
            clinician = Clinician.objects.create(display_name=name, profession=profession)
            clinician.services.set([services[s] for s in service_keys])
            clinician.locations.set([locations[loc] for loc in location_keys])
            clinicians[key] = clinician
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                clinician=clinicians[clinician],
                service=services[service],
                location=locations[location],
                weekday=weekday,
                start_time=starts,
                end_time=ends,
                capacity=capacity,
                valid_from=today,
            )
            for clinician, service, location, weekday, starts, ends, capacity in RULES
        )
        return clinicians

    def _create_closures(self, locations, clinicians, today: date) -> int:
        # A GGD enters the year's public holidays up front, for every location.
        holidays = [
            (first, last, name)
            for year in (today.year, today.year + 1)
            for first, last, name in public_holidays(year)
            if today <= last and first <= today + timedelta(days=365)
        ]
        closures = [
            Closure(starts_on=first, ends_on=last, location=location, reason=name)
            for first, last, name in holidays
            for location in locations.values()
        ]
        # Jeroen follows a training on his chemsex afternoon in the second week.
        training_day = today + timedelta(days=7 + (Weekday.TUESDAY - today.weekday()) % 7)
        closures.append(
            Closure(
                starts_on=training_day,
                ends_on=training_day,
                clinician=clinicians["jeroen"],
                reason="Scholing",
            )
        )
        Closure.objects.bulk_create(closures)
        return len(closures)

    def _create_staff_users(self, clinicians: dict[str, Clinician]) -> dict[str, str]:
        """One staff account per role, none a superuser; nobody knows the passwords."""
        groups = {
            group.name: group for group in Group.objects.filter(name__in=roles.ROLE_PERMISSIONS)
        }
        users = {}
        for username, role in STAFF_USERS.items():
            user, _created = get_user_model().objects.get_or_create(username=username)
            user.is_staff, user.is_superuser, user.is_active = True, False, True
            user.set_password(secrets.token_urlsafe(32))
            user.save()
            user.groups.set([groups[role]])
            users[username] = role
        username, clinician_key = CLINICIAN_ACCOUNT
        clinician = clinicians[clinician_key]
        clinician.user = get_user_model().objects.get(username=username)
        clinician.save(update_fields=["user"])
        return users

    def _create_bookings(self, services, clinicians, *, now: datetime) -> int:
        from appointments.selectors import slots_bookable
        from appointments.services import (
            ContactDetails,
            IntakeResponse,
            SlotUnavailable,
            booking_confirm,
            slot_hold,
        )

        questions = {question.text_nl: question for question in IntakeQuestion.objects.all()}
        days_taken: dict[str, set[date]] = {}
        count = 0
        for clinician_key, service_key, nickname, source, email, answers in BOOKINGS:
            taken = days_taken.setdefault(clinician_key, set())
            free = (
                slots_bookable(service=services[service_key], now=now)
                .filter(clinician=clinicians[clinician_key])
                .order_by("start")
            )
            # A different day for each appointment of one clinician, if there is one.
            slot = free.exclude(date__in=taken).first() or free.first()
            if slot is None:
                continue
            try:
                hold = slot_hold(slot_id=slot.pk, now=now)
            except SlotUnavailable:
                continue
            contact = (
                ContactDetails(email=email, channel=ContactChannel.EMAIL)
                if email
                else ContactDetails()
            )
            booking_confirm(
                hold_public_id=hold.public_id,
                responses=[
                    IntakeResponse(question=questions[text], value=value)
                    for text, value in answers.items()
                ],
                nickname=nickname,
                source=source,
                contact=contact,
                now=now,
            )
            taken.add(slot.date)
            count += 1
        return count
