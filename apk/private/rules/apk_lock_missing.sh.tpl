#!/usr/bin/env bash
echo {{MESSAGE}} >&2
exit 1
