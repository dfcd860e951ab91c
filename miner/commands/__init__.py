"""The commands, one module a feature; each module's ``register_commands(cli)`` adds its commands to
the group (as sqlite-utils and Datasette plugins do). `miner.cli` registers every module found here."""
