"""Who holds an address: registration data (RIR whois dumps, delegation statistics, BGP RIB dumps) and what
``ip/summary`` and ``ip/reverse`` answer from it.

    book.py        DATA/registration.sqlite3: networks, organisations and AS names of each imported dump
    rpsl.py        RIR whois bulk dumps in RPSL (RFC 2622): inetnum, inet6num, aut-num, organisation, route(6)
    delegated.py   RIR delegated-extended statistics files
    mrt.py         BGP RIB dumps in MRT TABLE_DUMP_V2 (RFC 6396), read with mrtparse
    importing.py   one dump into the book: rejected records with their position, nothing half-stored
    summary.py     ip/summary and ip/reverse: the book, the rdns dataset, the bundled ASN table, the PSL

The book lives in the data directory beside tokens and usage, so every engine (embedded, chDB, ClickHouse)
reaches it the same way.
"""
