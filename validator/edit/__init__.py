"""Authoring: `new`, `promote`, `rollback` and `remove` make the next legal change to a flag
file and leave every other byte as it was.

`spans` maps a file's text (where each key and value starts and ends), `render` writes YAML
values, `yaml_edit` edits at those spans, `steps` computes the next rollout state (pure),
`new_flag` writes a new file, `judge` runs the validator's own rules and transitions on the
result (pure), `committed` reads the state at HEAD from git, `write` replaces a file
atomically, `session` and `output` tie one command together and print it.
"""
