"""Drop the lone indexes of Slot.clinician, .service and .location.

Each column leads a composite index that serves the same lookups: (clinician,
start), (service, location, start) and (location, date). The lone ones only made
every insert slower, and slot generation inserts some 50,000 rows at once.
Only the indexes are dropped: Django's own AlterField would also drop and re-add
(and so re-check, under a table lock) the three foreign keys, which stay as
they are.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("appointments_slot_clinician_id_e31a2e0f", "clinician_id"),
    ("appointments_slot_location_id_2f26b7a0", "location_id"),
    ("appointments_slot_service_id_3902bb6f", "service_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0009_contact_digest'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "appointments_slot" ("{column}")',
                )
                for name, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='slot',
                    name='clinician',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='slots', to='appointments.clinician', verbose_name='zorgverlener'),
                ),
                migrations.AlterField(
                    model_name='slot',
                    name='location',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='slots', to='appointments.location', verbose_name='locatie'),
                ),
                migrations.AlterField(
                    model_name='slot',
                    name='service',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='slots', to='appointments.service', verbose_name='spreekuur'),
                ),
            ],
        ),
    ]
