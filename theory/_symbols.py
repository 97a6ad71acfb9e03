"""SymPy symbols shared by the theory entries (one definition, so formulas compose)."""
import sympy as sp

#: learning rate, batch size, continuous time (t = k * lr), Hessian-noise floor h_min
eta = sp.Symbol("eta", positive=True)
B = sp.Symbol("B", positive=True)
t = sp.Symbol("t", nonnegative=True)
floor = sp.Symbol("h_min", nonnegative=True)
#: an eigenvalue of the Hessian (any sign) and a positive curvature magnitude
H = sp.Symbol("H", real=True)
lam = sp.Symbol("lambda", positive=True)
#: momentum parameters
beta1 = sp.Symbol("beta_1", nonnegative=True)
beta3 = sp.Symbol("beta_3", positive=True)
beta0 = sp.Symbol("beta_0", positive=True)
#: exit radius, initial position and velocity
R = sp.Symbol("R", positive=True)
theta0 = sp.Symbol("theta_0", real=True)
r0 = sp.Symbol("r_0", real=True)
#: escape-from-minimum quantities (docs/theory.md section 5 notation)
Ha = sp.Symbol("H_ae", positive=True)
Hb = sp.Symbol("|H_be|", positive=True)
dL = sp.Symbol("Delta_L", positive=True)
s = sp.Symbol("s", positive=True)
#: the quartile of |N(0,1)|: Phi^{-1}(3/4)
q34 = sp.sqrt(2) * sp.erfinv(sp.Rational(1, 2))
