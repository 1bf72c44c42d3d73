"""The stack's settings: the model (:mod:`.model`), its rules (:mod:`.validators`) and the
documentation generated from it (:mod:`.docs`)."""

from learning_images_infra.settings.docs import ConfigKey, config_schema, pulumi_project_config, settings_table
from learning_images_infra.settings.model import (
    Settings,
    SettingsError,
    load_settings,
    parse_args,
    parse_settings,
)
from learning_images_infra.settings.validators import (
    DEPLOYER,
    GDPR_ERASURE_DAYS,
    MAX_ACCESS_KEYS,
    PROJECT,
    PROJECT_KEY,
    PROVIDER_KEYS,
    REGION_KEY,
)

__all__ = [
    "DEPLOYER",
    "GDPR_ERASURE_DAYS",
    "MAX_ACCESS_KEYS",
    "PROJECT",
    "PROJECT_KEY",
    "PROVIDER_KEYS",
    "REGION_KEY",
    "ConfigKey",
    "Settings",
    "SettingsError",
    "config_schema",
    "load_settings",
    "parse_args",
    "parse_settings",
    "pulumi_project_config",
    "settings_table",
]
