#!/bin/sh
echo "running with mode ${MODE}"
