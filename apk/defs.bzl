"""Public API of rules_wharf's APK rules. Implementations live in //apk/private."""

load("//apk:providers.bzl", _ApkPackageInfo = "ApkPackageInfo", _ApkPackagesInfo = "ApkPackagesInfo")
load("//apk/private/rules:apk_image_contents.bzl", _apk_image_contents = "apk_image_contents")
load("//apk/private/rules:apk_lock.bzl", _apk_lock = "apk_lock")
load("//apk/private/rules:apk_package.bzl", _apk_package = "apk_package")
load("//apk/private/rules:apk_packages.bzl", _apk_packages = "apk_packages")
load("//apk/private/rules:apk_tidy.bzl", _apk_tidy = "apk_tidy")
load("//apk/private/rules:vulnerability_test.bzl", _apk_vulnerability_test = "apk_vulnerability_test")

apk_image_contents = _apk_image_contents
apk_lock = _apk_lock
apk_package = _apk_package
apk_packages = _apk_packages
apk_tidy = _apk_tidy
apk_vulnerability_test = _apk_vulnerability_test
ApkPackageInfo = _ApkPackageInfo
ApkPackagesInfo = _ApkPackagesInfo
