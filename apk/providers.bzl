"""Providers of rules_wharf's APK rules."""

load("//apk/private/providers:apk_package_info.bzl", _ApkPackageInfo = "ApkPackageInfo")
load("//apk/private/providers:apk_packages_info.bzl", _ApkPackagesInfo = "ApkPackagesInfo")

ApkPackageInfo = _ApkPackageInfo
ApkPackagesInfo = _ApkPackagesInfo
