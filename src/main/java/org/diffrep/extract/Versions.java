package org.diffrep.extract;

import java.util.LinkedHashMap;
import java.util.Map;

/** Versions recorded in every manifest. */
final class Versions {

    static final String LIBTORCH = "2.10.0 (JavaCPP presets 1.5.13)";

    private Versions() {
    }

    static String diffrep() {
        String v = Versions.class.getPackage() == null ? null : Versions.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }

    static Map<String, String> all() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("diffrep", diffrep());
        m.put("libtorch", LIBTORCH);
        return m;
    }
}
