# tests.cmake - the test suite: unit (cmocka, no network), integration (a real
# dangand over real TLS), fuzz corpus replay. Included from the top CMakeLists.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

# dangand with I/O fault injection (server/walbuf.h, DG_WALBUF_FAULTS) for the
# fault tests only: its walbuf.c object takes the place of the library's, and
# the spec comes from the file named by DANGAN_FAULT_FILE. Never installed.
add_executable(dangand-faulty server/main.c server/walbuf.c)
target_compile_definitions(dangand-faulty PRIVATE DG_WALBUF_FAULTS=1)
target_link_libraries(dangand-faulty PRIVATE dgserver)

# dangand whose time the tests drive (common/clock.h, DG_CLOCK_DRIVEN): its
# clock.c object takes the place of the library's, so every reading of time is
# shifted by the offset in the file named by DANGAN_TEST_CLOCK, and SIGUSR1 runs
# the periodic sweep at once. Every argon2id verification is logged
# (tests/lib/argon2_probe.c). Never installed.
add_executable(dangand-test server/main.c common/clock.c tests/lib/argon2_probe.c)
target_compile_definitions(dangand-test PRIVATE DG_CLOCK_DRIVEN=1)
target_link_libraries(dangand-test PRIVATE dgserver)
target_link_options(dangand-test PRIVATE -Wl,--wrap=argon2id_verify)

add_library(dgtest STATIC tests/lib/fixture.c tests/lib/rawtls.c)
target_include_directories(dgtest PUBLIC ${CMAKE_SOURCE_DIR}/tests/lib)
target_link_libraries(dgtest PUBLIC libdangan PkgConfig::CMOCKA PkgConfig::SQLITE)
target_compile_definitions(dgtest PUBLIC DANGAND_PATH="$<TARGET_FILE:dangand>"
                                         DANGAND_FAULTY_PATH="$<TARGET_FILE:dangand-faulty>"
                                         DANGAND_TEST_PATH="$<TARGET_FILE:dangand-test>"
                                         DANGAN_PATH="$<TARGET_FILE:dangan>"
                                         DANGAN_BENCH_PATH="$<TARGET_FILE:dangan-bench>")
add_dependencies(dgtest dangand dangan dangand-faulty dangand-test)
add_dependencies(dgtest dangan-bench)

# dangan_test(NAME SOURCES... [LIBS ...] [LABELS ...] [TIMEOUT s])
function(dangan_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout")
endfunction()

# common/ mechanisms
foreach(t frame pb validate utf8 alloc buf map hex text lograte)
  dangan_test(test_${t} SOURCES tests/unit/test_${t}.c LIBS dgcommon LABELS unit)
endforeach()
# server/ policy logic without I/O
foreach(t config auth throttle)
  dangan_test(test_${t} SOURCES tests/unit/test_${t}.c LIBS dgserver LABELS unit)
endforeach()
target_compile_definitions(test_config PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# server/ storage and TLS, against real files in a temp dir
foreach(t audit store writer tls stream pool entity)
  dangan_test(test_${t} SOURCES tests/unit/test_${t}.c LIBS dgserver dgtest LABELS unit)
endforeach()
foreach(t tls_policy login robust pipeline shutdown cli records audit_log users reassign feed crash)
  dangan_test(test_${t} SOURCES tests/integration/test_${t}.c LIBS dgtest dgserver
              PkgConfig::JANSSON LABELS integration TIMEOUT 300)
endforeach()

# Lists and search through one reader: keyset paging of every sort, the CLI's
# --all, old cursors, filter shapes beyond the statement cache
dangan_test(test_lists SOURCES tests/integration/test_lists.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# Record CLI commands (customer, contact, note, deal, feedback, task, field)
# -- cli-records tests below this line
dangan_test(test_cli_records SOURCES tests/integration/test_cli_records.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# dangand demo-data
# -- demo-data tests below this line
dangan_test(test_demo_data SOURCES tests/integration/test_demo_data.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)

# dangand backup / restore
dangan_test(test_backup SOURCES tests/integration/test_backup.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)

# dangan-bench
# -- bench tests below this line
dangan_test(test_bench SOURCES tests/integration/test_bench.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# Fuzz targets: with DANGAN_FUZZ=ON (clang) real libFuzzer binaries; always a
# replay of the committed corpus through the same entry point.
foreach(t frame text)
  if(DANGAN_FUZZ)
    add_executable(fuzz_${t} tests/fuzz/fuzz_${t}.c)
    target_link_libraries(fuzz_${t} PRIVATE dgcommon)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  endif()
  add_executable(fuzz_${t}_replay tests/fuzz/fuzz_${t}.c tests/fuzz/replay_main.c)
  target_link_libraries(fuzz_${t}_replay PRIVATE dgcommon)
  add_test(NAME fuzz_${t}_replay
           COMMAND fuzz_${t}_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${t})
  set_tests_properties(fuzz_${t}_replay PROPERTIES LABELS "fuzz" TIMEOUT 120)
endforeach()
# perm.c's masks and the audit head parser: they live in the server library
if(DANGAN_FUZZ)
  add_executable(fuzz_mask tests/fuzz/fuzz_mask.c)
  target_link_libraries(fuzz_mask PRIVATE dgserver)
  target_link_options(fuzz_mask PRIVATE -fsanitize=fuzzer)
endif()
add_executable(fuzz_mask_replay tests/fuzz/fuzz_mask.c tests/fuzz/replay_main.c)
target_link_libraries(fuzz_mask_replay PRIVATE dgserver)
add_test(NAME fuzz_mask_replay COMMAND fuzz_mask_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/mask)
set_tests_properties(fuzz_mask_replay PROPERTIES LABELS "fuzz" TIMEOUT 120)

# Permissions: the policy table tests/integration/permissions.tsv, leaks, masks
dangan_test(test_perm SOURCES tests/integration/test_perm.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)
target_compile_definitions(test_perm PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# Idempotent retries: batches, merge, reassign, damaged answers, keys of schema v4
dangan_test(test_idempotency SOURCES tests/integration/test_idempotency.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)
target_compile_definitions(test_idempotency PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# Batch at the advertised limits; op references out of range
dangan_test(test_batch SOURCES tests/integration/test_batch.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)

# The walbuf VFS with its fault hooks compiled in (DG_WALBUF_FAULTS): this
# executable's walbuf.c object takes the place of the library's.
dangan_test(test_walbuf SOURCES tests/unit/test_walbuf.c server/walbuf.c LIBS dgserver dgtest LABELS unit)
target_compile_definitions(test_walbuf PRIVATE DG_WALBUF_FAULTS=1)

# Damaged data directories refused before anything is written; dangand check
dangan_test(test_damaged SOURCES tests/integration/test_damaged.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# I/O fault injection through dangand-faulty
dangan_test(test_faults SOURCES tests/integration/test_faults.c LIBS dgtest dgserver LABELS integration TIMEOUT 600)
