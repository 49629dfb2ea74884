"""Speaking to the customer: templates in the seeds' voice, the frame around a CSM's own text,
right-to-left text that stays in order, the blame check (a warning) and the leak guard (a block).

Nothing here calls Slack. A caller renders a :class:`CustomerMessage`, shows the writer its
``findings``, and posts ``message.text`` only when ``check_for_customer`` finds no leak::

    message = render_update(kind=crisis.kind, language=account.language, customer=account.name,
                            experienced=..., doing=..., next_steps=[...],
                            next_due=crisis.next_update_due_at, zone=account.timezone,
                            templates_dir=settings.templates_dir)
    leaks = check_for_customer(message.text, context=confidential_for(crisis=crisis,
                                                                      accounts=accounts))
"""

from bot.customer.blame import BlameFinding, find_blame
from bot.customer.dates import local_moment, next_update_token
from bot.customer.guard import (
    CheckedMessage,
    Confidential,
    Leak,
    LeakError,
    LeakKind,
    check_for_customer,
    confidential_for,
    ensure_for_customer,
)
from bot.customer.render import (
    CustomerMessage,
    render_broadcast,
    render_check_in,
    render_closure,
    render_frame,
    render_update,
    template_for,
)

__all__ = [
    "BlameFinding",
    "CheckedMessage",
    "Confidential",
    "CustomerMessage",
    "Leak",
    "LeakError",
    "LeakKind",
    "check_for_customer",
    "confidential_for",
    "ensure_for_customer",
    "find_blame",
    "local_moment",
    "next_update_token",
    "render_broadcast",
    "render_check_in",
    "render_closure",
    "render_frame",
    "render_update",
    "template_for",
]
