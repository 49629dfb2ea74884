"""Crisis logic. No Slack imports here: Slack effects go through a ``SlackPort``."""
