"""The composition root: builds the app, the scheduler and the sandbox from bot, handlers,
scheduler and sandbox, and is the only package that imports them all."""
