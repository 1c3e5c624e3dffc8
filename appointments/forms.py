"""Client forms. Each keeps what was typed and says next to a field what is wrong."""

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .models import IntakeQuestion, Slot
from .services import IntakeResponse

YES_NO_CHOICES = [("yes", _("Ja")), ("no", _("Nee"))]


class SlotChoiceForm(forms.Form):
    """The time a client picked on the page of free times."""

    slot = forms.IntegerField(min_value=1, error_messages={"required": _("Kies een tijd.")})


class WeekForm(forms.Form):
    week = forms.DateField(required=False, input_formats=["%Y-%m-%d"])


def slot_label(slot: Slot) -> str:
    local = timezone.localtime(slot.start)
    return f"{formats.date_format(local, 'l j F')} {local:%H:%M}"


class IntakeForm(forms.Form):
    """The questions configured for a service, plus how the client wants to be addressed.

    When the held time was lost, `alternatives` adds a required choice of other
    free times, so the client picks one without retyping anything.
    """

    nickname = forms.CharField(
        label=_("Hoe mogen we je noemen?"),
        help_text=_("Een voornaam of bijnaam. Je hoeft je echte naam niet te geven."),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def __init__(self, *args, questions: list[IntakeQuestion], alternatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        question_fields = {}
        for question in questions:
            question_fields[self.field_name(question)] = self._field_for(question)
        # Questions first, the nickname last: the intake is what the visit is about.
        nickname = self.fields.pop("nickname")
        self.fields.update(question_fields)
        self.fields["nickname"] = nickname
        if alternatives:
            self.fields["alternative_slot"] = forms.TypedChoiceField(
                label=_("Kies een andere tijd"),
                choices=[(slot.pk, slot_label(slot)) for slot in alternatives],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Kies een andere tijd om verder te gaan.")},
            )
            self.order_fields(["alternative_slot"])

    @staticmethod
    def field_name(question: IntakeQuestion) -> str:
        return f"question_{question.pk}"

    @staticmethod
    def _field_for(question: IntakeQuestion) -> forms.Field:
        common = {
            "label": question.text,
            "help_text": question.help_text,
            "required": question.required,
        }
        match question.kind:
            case IntakeQuestion.Kind.SINGLE_CHOICE:
                choices = [(c.code, c.text) for c in question.choices.all()]
                return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
            case IntakeQuestion.Kind.MULTIPLE_CHOICE:
                choices = [(c.code, c.text) for c in question.choices.all()]
                return forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple, **common
                )
            case IntakeQuestion.Kind.YES_NO:
                return forms.ChoiceField(choices=YES_NO_CHOICES, widget=forms.RadioSelect, **common)
            case _:
                return forms.CharField(
                    max_length=500, widget=forms.Textarea(attrs={"rows": 3}), **common
                )

    def responses(self) -> list[IntakeResponse]:
        return [
            IntakeResponse(question=q, value=self.cleaned_data.get(self.field_name(q)) or "")
            for q in self.questions
        ]
