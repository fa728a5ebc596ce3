#!/bin/sh
# Dumps Gitpod's in-cluster MySQL to the backup volume and keeps seven days of dumps.
set -eu
stamp=$(date -u +%Y%m%d-%H%M%S)
mysqldump --host=mysql.gitpod.svc.cluster.local --user=root --all-databases --single-transaction | gzip > "/backup/gitpod-${stamp}.sql.gz"
find /backup -name 'gitpod-*.sql.gz' -mtime +7 -delete
