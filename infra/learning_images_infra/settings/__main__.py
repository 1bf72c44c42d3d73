"""``python -m learning_images_infra.settings``: the settings documentation."""

from learning_images_infra.settings.docs import main

main()
