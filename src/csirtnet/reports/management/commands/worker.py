"""`csirtnet worker`: run background tasks; `--batch` runs what is queued, then the sweeper."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import CommandError
from django.db import OperationalError, connections
from django.utils.translation import gettext as _
from django_tasks import TaskResult, TaskResultStatus
from django_tasks.signals import task_finished
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from csirtnet.incidents.delivery import deliver_pending_notifications
from csirtnet.reports.delivery import DeliverySummary, deliver_pending_digests
from csirtnet.reports.tasks import deliver_digest

logger = logging.getLogger(__name__)
_WORKER_SIGNALS = [signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGQUIT", signal.SIGTERM)]


class Command(DbWorkerCommand):
    """
    The django-tasks database worker (all options of `db_worker`). Without `--batch` it
    polls the queue until stopped. With `--batch` it runs every queued task, then delivers
    the pending digests and incident notifications whose task was lost
    (`deliver_pending_digests`, `deliver_pending_notifications`), prints one line of
    counts and exits; an error status if any failed.
    """

    help = (
        "Run the background worker. With --batch: run the queued tasks, deliver the "
        "pending digests, print one summary line and exit."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["batch"]:
            self._poll(*args, **options)
            return
        summary = self._run_queued(options)
        summary = summary.merge(deliver_pending_digests())
        notifications = deliver_pending_notifications()
        line = _("worker: %(summary)s; %(notifications)s") % {
            "summary": summary.describe(),
            "notifications": notifications.describe(),
        }
        if summary.failed_count or notifications.failed_count:
            raise CommandError(line)
        self.stdout.write(line)

    def _poll(self, *args: Any, **options: Any) -> None:
        """
        Poll until stopped. A database that stays locked past its timeout (a long
        SQLite import holds the write lock) is waited out and polling resumes, rather
        than the worker dying and mail stopping; other errors end the worker.
        """
        while True:
            try:
                super().handle(*args, **options)
                return
            except OperationalError as error:
                if "locked" not in str(error).lower():
                    raise
                logger.warning("worker: the database is locked; polling again in 5 s")
                connections.close_all()
                time.sleep(5)

    def _run_queued(self, options: dict[str, Any]) -> DeliverySummary:
        """Run `db_worker --batch` quietly (its log at -v 2) and count digest outcomes."""
        summary = DeliverySummary()

        def count(*, task_result: TaskResult[Any], **kwargs: Any) -> None:
            if task_result.task.module_path != deliver_digest.module_path:
                return
            if task_result.status == TaskResultStatus.SUCCESSFUL:
                summary.add(str(task_result.return_value))
            else:
                summary.failed_count += 1

        handlers = {number: signal.getsignal(number) for number in _WORKER_SIGNALS}
        task_finished.connect(count, weak=False)
        try:
            super().handle(
                **{**options, "startup_delay": False, "verbosity": options["verbosity"] - 1}
            )
        finally:
            task_finished.disconnect(count)
            for number, handler in handlers.items():  # db_worker installs its own
                signal.signal(number, handler)
        return summary
