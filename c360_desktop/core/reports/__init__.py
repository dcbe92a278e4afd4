"""Reports and analytics (issue 20): the semantic layer of measures and dimensions, the report
service panes, schedules and the CLI share, and exports through core.outputs. Not built yet:
this package is where it goes."""
