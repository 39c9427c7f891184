"""The ``scelle`` command line: thin commands over ``scelle.client`` and the services."""
