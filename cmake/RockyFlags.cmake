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

# Fuzz builds (tests/fuzz/, scripts/fuzz): every target of ours gets
# libFuzzer's coverage instrumentation plus ASan+UBSan, so the fuzzer sees
# inside the parsers it drives (they live in our libraries, not in the
# harness); the harnesses themselves link -fsanitize=fuzzer. UB is fatal so
# that libFuzzer keeps the input that caused it.
if(ROCKY_BUILD_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR
      "ROCKY_BUILD_FUZZ needs clang (libFuzzer); configure with CC=clang "
      "(Debian: apt-get install clang libclang-rt-14-dev)")
  endif()
  if(ROCKY_SANITIZE MATCHES "thread")
    message(FATAL_ERROR "ROCKY_BUILD_FUZZ builds with ASan+UBSan; drop "
                        "ROCKY_SANITIZE=thread")
  endif()
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer")
  check_c_source_compiles([=[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return d && n; }
]=] ROCKY_LIBFUZZER_WORKS)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT ROCKY_LIBFUZZER_WORKS)
    message(FATAL_ERROR
      "ROCKY_BUILD_FUZZ: ${CMAKE_C_COMPILER} cannot link -fsanitize=fuzzer; "
      "install libFuzzer (Debian: apt-get install libclang-rt-14-dev)")
  endif()
  target_compile_options(rocky_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  target_link_options(rocky_build_flags INTERFACE
    -fsanitize=address,undefined)
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
  if(NOT ROCKY_SANITIZE AND NOT ROCKY_BUILD_FUZZ)
    # Sanitizer runtimes live in the executable, so only insist on a fully
    # resolved plugin in plain builds.
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
endfunction()
