"""Backup and restore of the embedded default (see ``scelle.backups.service``)."""
