"""Each event records the transaction that wrote it, so the sealer can tell which
events are final without locking the trail (banking.audit.actions).

Events and seals already there get 0: they were all committed before this
migration, and among themselves they keep their id order, which is the order they
were sealed in. Adding a column with a constant default rewrites no row (the
append-only triggers never see an UPDATE); only then does the default become the
writing transaction's id."""

from django.db import migrations, models

import banking.audit.models


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_leaner_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="writer_xid",
            field=models.BigIntegerField(db_default=0, editable=False),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="writer_xid",
            field=models.BigIntegerField(db_default=banking.audit.models.CurrentTransactionId(), editable=False),
        ),
        migrations.AddField(
            model_name="auditseal",
            name="event_xid",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AlterModelOptions(
            name="auditseal",
            options={"ordering": ["event_xid", "event_id"]},
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["writer_xid", "id"], name="audit_event_seal_order"),
        ),
        migrations.AddIndex(
            model_name="auditseal",
            index=models.Index(fields=["event_xid", "event_id"], name="audit_seal_chain_order"),
        ),
    ]
