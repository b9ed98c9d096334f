#!/bin/sh
# Workspace status for the e2e push of stamped tags (e2e/push_tags_test.go).
echo STABLE_GIT_COMMIT e2e0123
