package org.diffrep.extract;

/**
 * What a store's manifest records of the reduction of one tap ({@link StoreSettings#reductions}):
 * enough to tell a changed kernel on resume.
 *
 * @param name   the name {@code --reduce} selected
 * @param kind   builtin, java, cuda or shared-library
 * @param source where its code comes from: the Java class, the .cu file, or the library and its function
 * @param hash   "sha256:HEX" of that code (for Java: of the class's jar, or of its class file), null for a built-in
 */
public record ReductionRecord(String name, String kind, String source, String hash) {

    @Override
    public String toString() {
        return name + " (" + kind + (source == null ? "" : " " + source) + (hash == null ? "" : ", " + hash) + ")";
    }
}
