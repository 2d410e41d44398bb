# System dependencies, all from Debian packages (see scripts/install-deps).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

set(_rocky_missing_hint
  "run ./scripts/install-deps (or apt-get install the package named above)")
function(rocky_require_pkg prefix module debian_pkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR
      "pkg-config module '${module}' not found (Debian package ${debian_pkg}): "
      "${_rocky_missing_hint}")
  endif()
endfunction()

rocky_require_pkg(SQLITE3 sqlite3 libsqlite3-dev)
rocky_require_pkg(CJSON libcjson libcjson-dev)
rocky_require_pkg(PROTOBUFC libprotobuf-c libprotobuf-c-dev)
rocky_require_pkg(GRPC grpc libgrpc-dev)
if(ROCKY_BUILD_TESTS)
  rocky_require_pkg(CMOCKA cmocka libcmocka-dev)
endif()

find_program(ROCKY_PROTOC_C protoc-c)
if(NOT ROCKY_PROTOC_C)
  message(FATAL_ERROR
    "protoc-c not found (Debian package protobuf-c-compiler): ${_rocky_missing_hint}")
endif()
