"""Client URLs. Ids in paths are neutral: no service name, no personal data.

The manage token and a waitlist offer's token are the only secrets a URL
carries; pages under them are never cached, and every page sends
`Referrer-Policy: same-origin`, so no other host ever sees a token (why not
no-referrer: see docs/architecture.md).
"""

from django.urls import path

from . import views

app_name = "appointments"
urlpatterns = [
    path("", views.home, name="home"),
    path("afspraak/<int:service_id>/", views.service_locations, name="locations"),
    path("afspraak/<int:service_id>/<int:location_id>/", views.times, name="times"),
    path("afspraak/vasthouden/", views.hold, name="hold"),
    path("afspraak/gegevens/<uuid:public_id>/", views.intake, name="intake"),
    path("afspraak/gegevens/<uuid:public_id>/verlengen/", views.hold_extend, name="hold_extend"),
    path("afspraak/<int:service_id>/wachtlijst/", views.waitlist_join, name="waitlist_join"),
    path(
        "afspraak/<int:service_id>/wachtlijst/aangemeld/",
        views.waitlist_joined,
        name="waitlist_joined",
    ),
    path("wachtlijst/<str:token>/", views.waitlist_offer, name="waitlist_offer"),
    path("mijn-afspraak/<str:token>/", views.manage, name="manage"),
    path("mijn-afspraak/<str:token>/afspraak.ics", views.manage_ics, name="ics"),
    path("mijn-afspraak/<str:token>/afzeggen/", views.manage_cancel, name="cancel"),
    path("afspraak/afgezegd/", views.cancelled, name="cancelled"),
    path("mijn-afspraak/<str:token>/gegevens-wissen/", views.manage_erase, name="erase"),
    path("mijn-afspraak/<str:token>/verzetten/", views.manage_reschedule, name="reschedule"),
    path("mijn-afspraak/<str:token>/berichten/", views.manage_contact, name="contact"),
    path("vertrouwelijk/", views.confidentiality, name="confidentiality"),
    path("privacy/", views.privacy, name="privacy"),
    path("toegankelijkheid/", views.accessibility, name="accessibility"),
    path("wat-gebeurt-er/", views.what_happens, name="what_happens"),
]
