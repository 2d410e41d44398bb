# Warning, visibility and sanitizer flags, carried by the interface target
# `rocky_build_flags` that every target of ours links.
include(CheckCSourceCompiles)

add_library(rocky_build_flags INTERFACE)
target_compile_options(rocky_build_flags INTERFACE
  -Wall -Wextra -Wshadow -Wno-unused-parameter
  $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes -Wmissing-prototypes>)
target_compile_definitions(rocky_build_flags INTERFACE _GNU_SOURCE)
if(ROCKY_WERROR)
  target_compile_options(rocky_build_flags INTERFACE -Werror)
endif()

if(ROCKY_SANITIZE)
  if(NOT ROCKY_SANITIZE MATCHES "^(address,undefined|undefined,address|address|undefined|thread)$")
    message(FATAL_ERROR
      "ROCKY_SANITIZE='${ROCKY_SANITIZE}' is not supported: use "
      "'address,undefined' or 'thread'")
  endif()
  set(_san_flags -fsanitize=${ROCKY_SANITIZE} -fno-omit-frame-pointer -g)
  if(ROCKY_SANITIZE MATCHES "undefined")
    list(APPEND _san_flags -fno-sanitize-recover=undefined)
  endif()
  # Refuse, rather than silently build without, a sanitizer the compiler
  # cannot do (libuv's habit).
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=${ROCKY_SANITIZE}")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=${ROCKY_SANITIZE}")
  check_c_source_compiles("int main(void) { return 0; }" ROCKY_SANITIZER_WORKS)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT ROCKY_SANITIZER_WORKS)
    message(FATAL_ERROR
      "ROCKY_SANITIZE='${ROCKY_SANITIZE}' requested but ${CMAKE_C_COMPILER} "
      "cannot build with -fsanitize=${ROCKY_SANITIZE}; install the sanitizer "
      "runtime (gcc: libasan8 libubsan1 libtsan2) or drop the option")
  endif()
  target_compile_options(rocky_build_flags INTERFACE ${_san_flags})
  target_link_options(rocky_build_flags INTERFACE -fsanitize=${ROCKY_SANITIZE})
endif()

# rocky_add_plugin(<target> SOURCES ...): a dlopen-able MODULE with no `lib`
# prefix, hidden visibility (only ROCKY_PLUGIN_EXPORT symbols leave it) and
# no undefined symbols left for the host to provide.
function(rocky_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins)
  if(ARG_OUTPUT_NAME)
    set_target_properties(${target} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${target} PRIVATE rocky_build_flags)
  if(NOT ROCKY_SANITIZE)
    # Sanitizer runtimes live in the executable, so only insist on a fully
    # resolved plugin in plain builds.
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
