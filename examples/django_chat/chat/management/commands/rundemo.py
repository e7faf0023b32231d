"""``manage.py rundemo``: migrate, create the demo users, then serve on 127.0.0.1:8000."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_USERS = ("alice", "bob", "carol")
DEMO_PASSWORD = "chanx-demo"


class Command(BaseCommand):
    help = "Set up the demo database and users, then run the ASGI development server."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--setup-only", action="store_true", help="do not serve")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        users = get_user_model()
        for name in DEMO_USERS:
            if not users.objects.filter(username=name).exists():
                users.objects.create_user(name, password=DEMO_PASSWORD)
        self.stdout.write(
            f"Demo users {', '.join(DEMO_USERS)} (password {DEMO_PASSWORD!r}). Open "
            f"http://{options['addrport']}/ in two browser windows and log in as two users."
        )
        if not options["setup_only"]:
            call_command("runserver", options["addrport"])
