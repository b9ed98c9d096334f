"""Public API of rules_wharf's APK rules. Implementations live in //apk/private."""

load("//apk:providers.bzl", _ApkPackageInfo = "ApkPackageInfo", _ApkPackagesInfo = "ApkPackagesInfo")
load("//apk/private:apk_lock.bzl", _apk_lock = "apk_lock")
load("//apk/private:apk_package.bzl", _apk_package = "apk_package")
load("//apk/private:apk_packages.bzl", _apk_packages = "apk_packages")

apk_lock = _apk_lock
apk_package = _apk_package
apk_packages = _apk_packages
ApkPackageInfo = _ApkPackageInfo
ApkPackagesInfo = _ApkPackagesInfo
