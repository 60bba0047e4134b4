"""Persistence: SQLAlchemy models, sessions, queries and Alembic migrations (no Flask)."""

# Registers the tables defined outside models.py on Base.metadata wherever the store is
# imported, so Alembic's autogenerate and the app see one schema.
import lti_tool.store.badges
import lti_tool.store.branding
import lti_tool.store.classroom
import lti_tool.store.goals
import lti_tool.store.grades
import lti_tool.store.installation
import lti_tool.store.knowledge_check
import lti_tool.store.learning
import lti_tool.store.operators
import lti_tool.store.refusals
import lti_tool.store.roster  # noqa: F401
