"""The huey instance, configured from settings.HUEY by djhuey. Import tasks' decorators from here."""

from huey.contrib.djhuey import HUEY as huey  # noqa: F401
