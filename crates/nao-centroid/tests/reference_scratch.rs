use nao_centroid::reference::{slerp_midpoint, ReferenceCentroidConfig, ReferenceCentroidSolver};
#[test]
fn scratch() {
    let dir = std::path::Path::new("/work/shared/reference/nao-official/centroid_d64_gauss");
    let r = |f: &str| nao_npy::read_npy(dir.join(f)).unwrap().to_f32_vec();
    let (p1, p2, ic, c) = (r("p1.npy"), r("p2.npy"), r("init_c_slerp.npy"), r("centroid.npy"));
    let s = slerp_midpoint(&p1, &p2);
    let e = s.iter().zip(&ic).map(|(a, b)| ((a - b) as f64).abs()).fold(0.0, f64::max);
    eprintln!("slerp max abs err {e:.3e}, norm {}", nao_prior::norm(&ic));
    eprintln!("official centroid norm {}", nao_prior::norm(&c));
    for seed in 0..8 {
        let solver = ReferenceCentroidSolver::new(64, ReferenceCentroidConfig { seed, ..Default::default() }).unwrap();
        let sol = solver.solve_from(&[&p1[..], &p2[..]], &ic).unwrap();
        let dc: f64 = sol.centroid.iter().zip(&c).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>().sqrt();
        eprintln!("seed {seed}: iters {} norm {:.6} dists {:?} lengths {:?} |c-c_off| {dc:.4} loss {:.5} eps {}", sol.iterations, sol.centroid_norm(), sol.distances(), sol.path_lengths(), sol.final_loss, sol.eps);
    }
}
