"""``python -m learning_images.rules``: the rule matrix, as docs/rules.md carries it."""

from learning_images.rules.tables import markdown_table

print(markdown_table())
