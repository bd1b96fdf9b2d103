// Alloc.java: 3 threads allocate lists of short-lived objects and arrays, so the JVM's collector runs many times.
//   javac Alloc.java && java -Xms16m -Xmx64m -XX:+UseG1GC Alloc
import java.util.ArrayList;

public class Alloc {
	public static void main(String[] args) throws Exception {
		Thread[] t = new Thread[3];
		long[] sums = new long[t.length];
		for (int i = 0; i < t.length; i++) {
			final int id = i;
			t[i] = new Thread(() -> {
				ArrayList<int[]> keep = new ArrayList<>();
				long s = 0;
				for (int k = 0; k < 60000; k++) {
					int[] a = new int[16 + (k * 31 + id) % 2000];
					a[a.length - 1] = k;
					keep.add(a);
					if (keep.size() > 500)
						s += keep.remove((k * 7) % keep.size())[0];
				}
				sums[id] = s + keep.size();
			});
			t[i].start();
		}
		for (Thread x : t)
			x.join();
		System.out.println(sums[0] + sums[1] + sums[2]);
	}
}
