#!/bin/sh
# Copies the dump off the cluster to the site's S3 storage ($BACKUP_DESTINATION, the remote
# `backup` configured from RCLONE_CONFIG_BACKUP_*), then deletes the dumps older than
# $KEEP_DAYS days there; only after a successful upload, so a failing run deletes nothing.
set -eu
rclone copy "$BACKUP_DIR" "$BACKUP_DESTINATION" --include 'gitpod-*.sql.gz'
rclone delete "$BACKUP_DESTINATION" --include 'gitpod-*.sql.gz' --min-age "${KEEP_DAYS}d"
rclone lsl "$BACKUP_DESTINATION"
