"""Public API of rules_wharf's APK rules. Implementations live in //apk/private."""

load("//apk/private:apk_package.bzl", _apk_package = "apk_package")
load("//apk/private:apk_packages.bzl", _apk_packages = "apk_packages")
load("//apk/private/providers:apk_package_info.bzl", _ApkPackageInfo = "ApkPackageInfo")
load("//apk/private/providers:apk_packages_info.bzl", _ApkPackagesInfo = "ApkPackagesInfo")

apk_package = _apk_package
apk_packages = _apk_packages
ApkPackageInfo = _ApkPackageInfo
ApkPackagesInfo = _ApkPackagesInfo
