"""The personal to-do page, where login leads."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from deliberation.core.htmx import render_page
from deliberation.todo.queries import todo_for

bp = Blueprint("todo", __name__)


@bp.get("/todo")
@login_required
def index():
    """What waits for me: my open votes, surveys and meetings, and the work of my roles."""
    return render_page("todo/index.html", "todo/index.html", todo=todo_for(current_user))
