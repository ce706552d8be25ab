# tests.cmake - the test suite: unit (cmocka, no network), integration (a real
# dangand over real TLS), fuzz corpus replay. Included from the top CMakeLists.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

# dangand with I/O fault injection (server/store/vfs.h, DG_VFS_FAULTS) for the
# fault tests only: its vfs.c object takes the place of the library's, and
# the spec comes from the file named by DANGAN_FAULT_FILE. Never installed.
add_executable(dangand-faulty server/main.c server/store/vfs.c)
target_compile_definitions(dangand-faulty PRIVATE DG_VFS_FAULTS=1)
target_link_libraries(dangand-faulty PRIVATE dgserver dgdemo)

# dangand whose time the tests drive (common/clock.h, DG_CLOCK_DRIVEN): its
# clock.c object takes the place of the library's, so every reading of time is
# shifted by the offset in the file named by DANGAN_TEST_CLOCK, and SIGUSR1 runs
# the periodic sweep at once. Every argon2id verification is logged
# (tests/lib/argon2_probe.c). Never installed.
add_executable(dangand-test server/main.c common/clock.c tests/lib/argon2_probe.c)
target_compile_definitions(dangand-test PRIVATE DG_CLOCK_DRIVEN=1)
target_link_libraries(dangand-test PRIVATE dgserver dgdemo)
target_link_options(dangand-test PRIVATE -Wl,--wrap=argon2id_verify)

add_library(dgtest STATIC tests/lib/fixture.c tests/lib/rawtls.c tests/lib/schema_undo.c)
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
foreach(t frame pb validate utf8 alloc buf map hex text dupkey lograte money)
  dangan_test(test_${t} SOURCES tests/unit/test_${t}.c LIBS dgcommon LABELS unit)
endforeach()
# the team's time zone (common/tz.c, ICU)
dangan_test(test_tz SOURCES tests/unit/test_tz.c LIBS dgtz LABELS unit)
# the CLI's "did you mean" (client/cli/suggest.c, pure)
dangan_test(test_suggest SOURCES tests/unit/test_suggest.c client/cli/suggest.c
            LIBS libdangan PkgConfig::JANSSON LABELS unit)
target_include_directories(test_suggest PRIVATE ${CMAKE_SOURCE_DIR}/client/cli)
# the CLI's protobuf → JSON (client/cli/out.c), behind every --json output
dangan_test(test_cli_json SOURCES tests/unit/test_cli_json.c client/cli/out.c
            LIBS libdangan PkgConfig::JANSSON LABELS unit)
target_include_directories(test_cli_json PRIVATE ${CMAKE_SOURCE_DIR}/client/cli)
# the graphical client's logic (client/gtk/logic/: GLib, no GTK, no display)
if(TARGET dggui)
  foreach(t gui_form gui_merge gui_list gui_edit gui_debounce)
    dangan_test(test_${t} SOURCES tests/unit/test_${t}.c LIBS dggui LABELS unit)
  endforeach()
endif()
# server/ policy logic without I/O
foreach(t config auth throttle)
  dangan_test(test_${t} SOURCES tests/unit/test_${t}.c LIBS dgserver LABELS unit)
endforeach()
target_compile_definitions(test_config PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# server/ storage and TLS, against real files in a temp dir
foreach(t audit store writer checkpoint tls stream pool entity)
  dangan_test(test_${t} SOURCES tests/unit/test_${t}.c LIBS dgserver dgtest LABELS unit)
endforeach()
target_sources(test_store PRIVATE tests/lib/search_ids.c) # the ids a search finds
foreach(t tls_policy login login_expiry login_throttle robust pipeline shutdown cli cli_help records
        audit_log users reassign feed feed_resume crash)
  dangan_test(test_${t} SOURCES tests/integration/test_${t}.c LIBS dgtest dgserver
              PkgConfig::JANSSON LABELS integration TIMEOUT 300)
endforeach()
# what the pieces of one concern share: the login requests and the servers
# whose clock moves; the change-feed tests' server, inbox and subscribing
foreach(t login login_expiry login_throttle)
  target_sources(test_${t} PRIVATE tests/integration/login_calls.c)
endforeach()
foreach(t feed feed_resume)
  target_sources(test_${t} PRIVATE tests/integration/feed_world.c)
endforeach()

# Lists and search through one reader: keyset paging of every sort, the CLI's
# --all, old cursors, filter shapes beyond the statement cache
dangan_test(test_lists SOURCES tests/integration/test_lists.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# Record CLI commands (customer, contact, note, deal, feedback, task, field)
# -- cli-records tests below this line
dangan_test(test_cli_records SOURCES tests/integration/test_cli_records.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)
dangan_test(test_team_settings SOURCES tests/integration/test_team_settings.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)
# the deal pipeline and the ABC classification
dangan_test(test_deals SOURCES tests/integration/test_deals.c LIBS dgtest LABELS integration TIMEOUT 300)
dangan_test(test_tiers SOURCES tests/integration/test_tiers.c LIBS dgtest LABELS integration TIMEOUT 300)

# dangand demo-data
# -- demo-data tests below this line
dangan_test(test_demo_data SOURCES tests/integration/test_demo_data.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)

# dangand backup / restore
dangan_test(test_backup SOURCES tests/integration/test_backup.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)
target_compile_definitions(test_backup PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")
dangan_test(test_backup_schedule SOURCES tests/integration/test_backup_schedule.c LIBS dgtest LABELS integration TIMEOUT 300)
dangan_test(test_public_pool SOURCES tests/integration/test_public_pool.c LIBS dgtest LABELS integration TIMEOUT 300)
dangan_test(test_backup_encrypted SOURCES tests/integration/test_backup_encrypted.c LIBS dgtest LABELS integration TIMEOUT 300)

# Documents attached to a customer: transfers, resumption, limits, visibility, backup, check
dangan_test(test_documents SOURCES tests/integration/test_documents.c tests/integration/docs_world.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 600)
dangan_test(test_documents_cli SOURCES tests/integration/test_documents_cli.c tests/integration/docs_world.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 600)

# dangan-bench
# -- bench tests below this line
dangan_test(test_bench SOURCES tests/integration/test_bench.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# Fuzz targets: with DANGAN_FUZZ=ON (clang) real libFuzzer binaries; always a
# replay of the committed corpus through the same entry point.
foreach(t frame text seal)
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

# Permissions, in one world of users and customers (perm_world.c): the policy
# table tests/integration/permissions.tsv (test_perm); dossiers, masks,
# history, hidden records and task assignees (test_perm_views); leaks in both
foreach(t perm perm_views)
  dangan_test(test_${t} SOURCES tests/integration/test_${t}.c tests/integration/perm_world.c
              tests/integration/perm_docs.c LIBS dgtest dgserver PkgConfig::JANSSON
              LABELS integration TIMEOUT 300)
  target_compile_definitions(test_${t} PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endforeach()
# ... and in every report, through the protocol, the CLI and the files it writes
dangan_test(test_perm_reports SOURCES tests/integration/test_perm_reports.c
            tests/integration/perm_world.c tests/integration/perm_docs.c
            LIBS dgtest dgserver PkgConfig::JANSSON PkgConfig::LIBZIP LABELS integration TIMEOUT 300)

# Likely duplicates: on create (hidden twins too), the scan, keys of a v6 database
dangan_test(test_duplicates SOURCES tests/integration/test_duplicates.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)
target_compile_definitions(test_duplicates PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# Idempotent retries: batches, merge, reassign, damaged answers, keys of schema v4
dangan_test(test_idempotency SOURCES tests/integration/test_idempotency.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)
target_compile_definitions(test_idempotency PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# A schema v5 database (tests/integration/data/schema_v5.sql, read by
# v5_database.c) opened by this dangand: every value of v5's text converted and
# conflicts as before (test_schema_v6), the feed's replay as before
# (test_schema_v6_feed)
foreach(t schema_v6 schema_v6_feed)
  dangan_test(test_${t} SOURCES tests/integration/test_${t}.c tests/integration/v5_database.c
              LIBS dgtest dgserver LABELS integration TIMEOUT 300)
  target_compile_definitions(test_${t} PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")
endforeach()

# Batch at the advertised limits; op references out of range
dangan_test(test_batch SOURCES tests/integration/test_batch.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)

# The storage VFS with its fault hooks compiled in (DG_VFS_FAULTS): this
# executable's vfs.c object takes the place of the library's.
dangan_test(test_vfs SOURCES tests/unit/test_vfs.c server/store/vfs.c LIBS dgserver dgtest LABELS unit)
target_compile_definitions(test_vfs PRIVATE DG_VFS_FAULTS=1)

# Damaged data directories refused before anything is written; dangand check
dangan_test(test_damaged SOURCES tests/integration/test_damaged.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# I/O fault injection through dangand-faulty
dangan_test(test_faults SOURCES tests/integration/test_faults.c LIBS dgtest dgserver LABELS integration TIMEOUT 600)

set(DANGAN_PYTHON /usr/bin/python3 CACHE FILEPATH "Python 3 (with python3-protobuf for test_example_client)")

# Every Status.reason the server sends is in docs/protocol.md, and its tables
# list none the server no longer sends.
add_test(NAME docs_reasons COMMAND ${DANGAN_PYTHON} ${CMAKE_SOURCE_DIR}/tests/docs/check_reasons.py
         ${CMAKE_SOURCE_DIR}/server ${CMAKE_SOURCE_DIR}/docs/protocol.md)
set_tests_properties(docs_reasons PROPERTIES LABELS "docs" TIMEOUT 60)

# docs/examples/client.py, the protocol guide's Python client, against a real
# server: protoc (protobuf-compiler) generates its module at test time, and
# Debian's python3 with python3-protobuf runs it.
find_program(DANGAN_PROTOC protoc)
if(NOT DANGAN_PROTOC)
  set(DANGAN_PROTOC protoc) # the test then fails, saying to install protobuf-compiler
endif()
dangan_test(test_example_client SOURCES tests/integration/test_example_client.c LIBS dgtest dgserver LABELS integration TIMEOUT 120)
target_compile_definitions(test_example_client PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                           PROTOC_PATH="${DANGAN_PROTOC}" PYTHON_PATH="${DANGAN_PYTHON}")

# The layers point one way: no cycle in the module include graph, nor among
# server/'s folders
add_test(NAME include_layers
         COMMAND ${DANGAN_PYTHON} ${CMAKE_SOURCE_DIR}/tests/tools/include_cycles.py
                 --layers ${CMAKE_SOURCE_DIR}/server ${CMAKE_SOURCE_DIR}/server ${CMAKE_SOURCE_DIR}/common ${CMAKE_SOURCE_DIR}/client)
set_tests_properties(include_layers PROPERTIES LABELS "unit" TIMEOUT 60)

# Installation: `cmake --install` into a temp prefix, then a program built
# against the installed dangan.h and libdangan.so with pkg-config
if(DANGAN_SANITIZE)
  set(install_test_cflags -fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
add_test(NAME install_libdangan
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/packaging/install.sh ${CMAKE_COMMAND}
                 ${CMAKE_BINARY_DIR} ${CMAKE_INSTALL_LIBDIR} ${CMAKE_INSTALL_MANDIR}
                 ${CMAKE_INSTALL_DATADIR} ${CMAKE_C_COMPILER} ${CMAKE_SOURCE_DIR}
                 ${install_test_cflags})
# The manual pages render without warnings; they and docs/cli.md cover every
# command and option
add_test(NAME man_pages
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/man.sh $<TARGET_FILE:dangan>
                 $<TARGET_FILE:dangand> ${CMAKE_SOURCE_DIR}/docs/man
                 ${CMAKE_SOURCE_DIR}/docs/cli.md)
# The bash completion: `dangan cust<TAB>`, and every command, option, field
# and sort key the CLI knows
add_test(NAME bash_completion
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/completion.sh $<TARGET_FILE:dangan>
                 ${CMAKE_SOURCE_DIR}/client/cli/dangan.bash)
set_tests_properties(install_libdangan man_pages bash_completion PROPERTIES
                     LABELS packaging TIMEOUT 120)

# Every function and file docs/architecture.md and docs/style.md name in
# backticks exists, and is in the file they say (next to docs_reasons above)
add_test(NAME docs_names COMMAND ${DANGAN_PYTHON} ${CMAKE_SOURCE_DIR}/tests/docs/check_names.py
         ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/docs/architecture.md
         ${CMAKE_SOURCE_DIR}/docs/style.md)
set_tests_properties(docs_names PROPERTIES LABELS "docs" TIMEOUT 60)

# dangan import / export: spreadsheet files made by Python's csv (excel
# dialect) and openpyxl, exported workbooks read back by openpyxl
dangan_test(test_import_export SOURCES tests/integration/test_import_export.c LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# the spreadsheet readers of dangan import (client/cli/tabin.h): CSV and XLSX
foreach(t csv xlsx)
  if(DANGAN_FUZZ)
    add_executable(fuzz_${t} tests/fuzz/fuzz_${t}.c)
    target_link_libraries(fuzz_${t} PRIVATE dgtabin)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  endif()
  add_executable(fuzz_${t}_replay tests/fuzz/fuzz_${t}.c tests/fuzz/replay_main.c)
  target_link_libraries(fuzz_${t}_replay PRIVATE dgtabin)
  add_test(NAME fuzz_${t}_replay COMMAND fuzz_${t}_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${t})
  set_tests_properties(fuzz_${t}_replay PROPERTIES LABELS "fuzz" TIMEOUT 120)
endforeach()
# the manager's reports on fixed data, the team in Shanghai and the tests in UTC
dangan_test(test_reports SOURCES tests/integration/test_reports.c
            LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# dangan today: the day's contact list, on a server whose clock the test drives
dangan_test(test_today SOURCES tests/integration/test_today.c LIBS dgtest dgserver dgtz PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# Reminders pushed through the change feed (a driven clock; restarts)
dangan_test(test_reminders SOURCES tests/integration/test_reminders.c LIBS dgtest dgserver LABELS integration TIMEOUT 300)

# dangan watch in sentences: what a watcher reads, masks and restricted tiers
dangan_test(test_watch_say SOURCES tests/integration/test_watch_say.c LIBS dgtest dgserver dgtz
            PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# dangan-gtk end to end (tests/gui/, docs/gtk.md): the real window under Xvfb
# with its own session bus, driven over AT-SPI against a real dangand with
# demo data. A missing tool fails the test (it names it), never skips it.
# (tests/gui/pages.py: the pages' tests open their sessions with the CLI.)
if(TARGET dangan-gtk)
  foreach(t first_run search_open reconnect translation live list_live activity tasks
          dossier_edit dossier_conflict dossier_actions today audit users new_customer
          owner_filter dossier_timeline dossier_hidden)
    add_test(NAME gui_${t}
             COMMAND xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session --
                     /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/gui/test_${t}.py
                     ${CMAKE_BINARY_DIR})
    set_tests_properties(gui_${t} PROPERTIES LABELS gui TIMEOUT 300)
  endforeach()
endif()

# the reports' running totals and indexes against a full recomputation over random changes
dangan_test(test_report_totals SOURCES tests/unit/test_report_totals.c LIBS dgserver dgtest dgtz
            LABELS unit TIMEOUT 300)

# [server] loops = 4: connections spread over the loops, changes reach subscribers on every
# loop in order without a gap, one session serves (and is revoked on) every loop
dangan_test(test_loops SOURCES tests/integration/test_loops.c tests/integration/feed_world.c
            LIBS dgtest dgserver PkgConfig::JANSSON LABELS integration TIMEOUT 300)

# search documents through search_queue: a search sees every answered write, a killed server's
# queue is indexed at start, the writer applies past [store] search_apply_ops; the queue applied
# equals a rebuild
dangan_test(test_search_queue SOURCES tests/integration/test_search_queue.c LIBS dgtest dgserver
            LABELS integration TIMEOUT 300)
dangan_test(test_search_queue_store SOURCES tests/unit/test_search_queue_store.c
            tests/lib/search_ids.c LIBS dgserver dgtest
            LABELS unit)
