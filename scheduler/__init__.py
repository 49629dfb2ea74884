"""APScheduler wiring. What is due lives in our tables; the scheduler only ticks."""
